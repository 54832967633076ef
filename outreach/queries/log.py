"""Filter the message log: one query builder shared by the CLI (and later the web console)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Text, cast, select
from sqlalchemy.orm import Session, sessionmaker

from outreach.db.models import Account, Debtor, InboundMessage, Message
from outreach.masking import mask, mask_addresses, mask_text


@dataclass(frozen=True)
class LogFilter:
    debtor: str | None = None  # external id
    account: str | None = None  # external id
    channel: str | None = None
    state: str | None = None
    campaign: str | None = None
    rule: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100


def log_query(f: LogFilter) -> Select[Message, str, str]:
    q = (
        select(
            Message,
            Debtor.external_id.label("debtor_ext"),
            Account.external_id.label("account_ext"),
        )
        .join(Debtor, Debtor.id == Message.debtor_id)
        .outerjoin(Account, Account.id == Message.account_id)
    )
    if f.debtor:
        q = q.where(Debtor.external_id == f.debtor)
    if f.account:
        q = q.where(Account.external_id == f.account)
    if f.channel:
        q = q.where(Message.channel == f.channel)
    if f.state:
        q = q.where(Message.state == f.state)
    if f.campaign:
        q = q.where(Message.campaign == f.campaign)
    if f.since:
        q = q.where(Message.due_at >= f.since)
    if f.until:
        q = q.where(Message.due_at < f.until)
    return q.order_by(Message.id.desc())


def iter_log(session: Session, f: LogFilter) -> Iterator[dict[str, Any]]:
    """The CLI's rows: the newest `f.limit` of the filtered log, as the console pages it."""
    before: int | None = None
    left = f.limit
    while left > 0:
        page = log_page(session, f, before_id=before, size=min(left, 500))
        yield from page.rows
        left -= len(page.rows)
        if page.next_before is None:
            return
        before = page.next_before


# --- keyset pages and exports (the console and the API) --------------------------------------
# Newest first by id, the cursor being the last id shown: a page costs the same at any depth,
# with the (filter column, id) indexes of Message. The LogFilter fields above are the filters;
# `address` and `rule` below are applied in SQL here.

RULE_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@dataclass(frozen=True)
class LogPage:
    rows: list[dict[str, Any]]
    next_before: int | None  # pass as `before_id` for the next (older) page; None: last page


def keyset_query(
    f: LogFilter, *, address: str | None = None, before_id: int | None = None
) -> Select[Message, str, str]:
    q = log_query(f)
    if address:
        q = q.where(Message.to_address == address)
    if f.rule:
        if not RULE_ID.match(f.rule):
            raise ValueError(f"rule: not a rule id: {f.rule!r}")
        # Decisions are JSON text; a quoted rule id can only be a list item there (reasons
        # would escape their quotes), so this is an exact match that needs no JSON functions.
        # autoescape: `_` (and `%`) in a rule id are literal characters, not LIKE wildcards.
        q = q.where(cast(Message.decision, Text).contains(f'"{f.rule}"', autoescape=True))
    if before_id is not None:
        q = q.where(Message.id < before_id)
    return q


def log_row(message: Message, debtor_ext: str, account_ext: str | None) -> dict[str, Any]:
    """One log row for lists and exports: addresses masked, also inside reasons and errors."""
    decision = message.decision or {}
    return {
        "id": message.id,
        "created_at": message.created_at.isoformat(),
        "due_at": message.due_at.isoformat(),
        "sent_at": message.sent_at.isoformat() if message.sent_at else None,
        "debtor_id": message.debtor_id,
        "debtor": debtor_ext,
        "account": account_ext,
        "campaign": message.campaign,
        "step": message.step_id,
        "channel": message.channel,
        "template": message.template,
        "to": mask(message.to_address),
        "state": message.state,
        "provider_id": message.provider_id,
        "verdict": decision.get("verdict"),
        "rules": list(decision.get("rules", [])),
        "reasons": [mask_addresses(r) for r in decision.get("reasons", [])],
        "error": mask_text(message.error_message) if message.error_message else None,
    }


def log_page(
    session: Session,
    f: LogFilter,
    *,
    address: str | None = None,
    before_id: int | None = None,
    size: int = 50,
) -> LogPage:
    found = session.execute(
        keyset_query(f, address=address, before_id=before_id).limit(size + 1)
    ).all()
    rows = [log_row(m, d, a) for m, d, a in found[:size]]
    return LogPage(rows, rows[-1]["id"] if len(found) > size else None)


def iter_export(
    factory: sessionmaker[Session], f: LogFilter, *, address: str | None = None, chunk: int = 1000
) -> Iterator[dict[str, Any]]:
    """Every row of the filtered log, newest first, one short transaction per chunk, so a
    long export never holds the database (SQLite's write lock) while the client reads."""
    before: int | None = None
    while True:
        with factory() as session:
            page = log_page(session, f, address=address, before_id=before, size=chunk)
        yield from page.rows
        if page.next_before is None:
            return
        before = page.next_before


EXPORT_COLUMNS = (
    "id",
    "created_at",
    "due_at",
    "sent_at",
    "debtor",
    "account",
    "campaign",
    "step",
    "channel",
    "template",
    "to",
    "state",
    "verdict",
    "rules",
    "reasons",
    "error",
)


# --- inbound: SMS replies, unsubscribes, bounces, web disputes (and what was done) ---------


def iter_inbound(session: Session, f: LogFilter) -> Iterator[dict[str, Any]]:
    """Inbound rows newest first with the intent found, the action taken and the replies
    sent (their message ids); `channel`, `debtor`, `account`, `since`, `until`, `limit` apply."""
    q = (
        select(
            InboundMessage,
            Debtor.external_id.label("debtor_ext"),
            Account.external_id.label("account_ext"),
        )
        .outerjoin(Debtor, Debtor.id == InboundMessage.debtor_id)
        .outerjoin(Account, Account.id == InboundMessage.account_id)
    )
    if f.debtor:
        q = q.where(Debtor.external_id == f.debtor)
    if f.account:
        q = q.where(Account.external_id == f.account)
    if f.channel:
        q = q.where(InboundMessage.channel == f.channel)
    if f.since:
        q = q.where(InboundMessage.received_at >= f.since)
    if f.until:
        q = q.where(InboundMessage.received_at < f.until)
    q = q.order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc()).limit(f.limit)
    rows = session.execute(q).all()
    replies: dict[int | None, list[int]] = {}
    ids = [r[0].id for r in rows]
    if ids:
        for message_id, inbound_id in session.execute(
            select(Message.id, Message.in_reply_to_id)
            .where(Message.in_reply_to_id.in_(ids))
            .order_by(Message.id)
        ):
            replies.setdefault(inbound_id, []).append(message_id)
    for inbound, debtor_ext, account_ext in rows:
        yield {
            "id": inbound.id,
            "received_at": inbound.received_at.isoformat(),
            "channel": inbound.channel,
            "from": mask(inbound.from_address),
            "debtor": debtor_ext,
            "account": account_ext,
            "body": mask_text(inbound.body[:160]),
            "intent": inbound.intent,
            "action": inbound.action or "",  # written with contact values already masked
            "needs_agent": inbound.needs_agent,
            "replies": replies.get(inbound.id, []),
        }
