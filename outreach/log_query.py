"""Filter the message log: one query builder shared by the CLI (and later the web console)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from outreach.masking import mask
from outreach.models import Account, Debtor, Message


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
    return q.order_by(Message.updated_at.desc(), Message.id.desc())


def iter_log(session: Session, f: LogFilter) -> Iterator[dict[str, Any]]:
    """Rows as plain dicts, contact values masked; the rule filter applies to the decision."""
    count = 0
    for message, debtor_ext, account_ext in session.execute(log_query(f)):
        decision = message.decision or {}
        if f.rule and f.rule not in decision.get("rules", []):
            continue
        yield {
            "id": message.id,
            "debtor": debtor_ext,
            "account": account_ext,
            "campaign": message.campaign,
            "step": message.step_id,
            "channel": message.channel,
            "template": message.template,
            "to": mask(message.to_address),
            "state": message.state,
            "due_at": message.due_at.isoformat(),
            "sent_at": message.sent_at.isoformat() if message.sent_at else None,
            "provider_id": message.provider_id,
            "verdict": decision.get("verdict"),
            "rules": decision.get("rules", []),
            "reasons": decision.get("reasons", []),
            "error": message.error_message,
        }
        count += 1
        if count >= f.limit:
            return
