"""Delivery status notifications (RFC 3464) arriving at the bounce address.

Parsed with the standard library's email package, not flufl.bounce: a DSN is a
multipart/report whose message/delivery-status part the email package already splits into
per-recipient field blocks, and we need exactly what flufl.bounce does not return: each
recipient's Status code (5.x.x permanent, 4.x.x transient) and the returned original headers
(our X-Outreach-Message-Id, the Message-ID) to find the message that bounced. Mail that is not
an RFC 3464 report is reported as such and left for a person.

Hard bounce (Action: failed, Status 5.x.x): a `bounced` delivery event (actions.delivery):
the address is marked undeliverable and the message goes sent -> bounced. Soft bounce
(delayed, or 4.x.x): recorded (an event on the message and the inbound row) and nothing
else: the receiving server keeps retrying, the message stays sent and the address stays
usable, so later messages still go to it.
"""

from __future__ import annotations

import email
import email.policy
import logging
import mailbox
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.message import Message as MimeMessage
from email.utils import parseaddr
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from outreach.actions import delivery as events
from outreach.actions.delivery import DeliveryEvent, EventType, Recipient
from outreach.config.loader import Config
from outreach.db import outbox
from outreach.db.models import InboundMessage, Message
from outreach.db.outbox import Changes, Transition
from outreach.masking import mask
from outreach.vocabulary import MessageState

log = logging.getLogger(__name__)

ACTOR = "bounce:dsn"
MESSAGE_HEADER = "X-Outreach-Message-Id"


@dataclass(frozen=True, slots=True)
class Failure:
    recipient: str
    action: str  # failed | delayed | delivered | relayed | expanded
    status: str  # "5.1.1"
    diagnostic: str

    @property
    def hard(self) -> bool:
        return self.action == "failed" and self.status.startswith("5")

    def describe(self) -> str:
        return f"{self.recipient}: {self.action} {self.status} {self.diagnostic}".strip()

    @property
    def soft(self) -> bool:
        return self.action == "delayed" or self.status.startswith("4")


@dataclass(frozen=True, slots=True)
class Dsn:
    id: str  # the DSN's own Message-ID (or a stand-in): processed once
    reporting_mta: str
    failures: tuple[Failure, ...]
    outreach_message_id: int | None
    original_message_id: str | None


class NotADsn(ValueError):
    """The mail is not an RFC 3464 delivery status notification."""


def parse_dsn(raw: bytes, fallback_id: str = "") -> Dsn:
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    report_type = str(msg.get_param("report-type") or "").lower()
    if msg.get_content_type() != "multipart/report" or report_type != "delivery-status":
        raise NotADsn(f"not a delivery-status report: {msg.get_content_type()}")
    status_part = next(
        (p for p in msg.walk() if p.get_content_type() == "message/delivery-status"), None
    )
    if status_part is None:
        raise NotADsn("multipart/report without a message/delivery-status part")
    blocks = status_part.get_payload()
    if not isinstance(blocks, list) or not blocks:
        raise NotADsn("empty message/delivery-status part")
    per_message, per_recipient = blocks[0], blocks[1:]
    if not isinstance(per_message, MimeMessage):
        raise NotADsn("malformed message/delivery-status part")
    failures = tuple(
        Failure(
            recipient=_address(b.get("Final-Recipient") or b.get("Original-Recipient") or ""),
            action=(b.get("Action") or "").strip().lower(),
            status=(b.get("Status") or "").strip().split(" ")[0],
            diagnostic=" ".join((b.get("Diagnostic-Code") or "").split()),
        )
        for b in per_recipient
        if isinstance(b, MimeMessage)
    )
    original = _original_headers(msg)
    raw_id = original.get(MESSAGE_HEADER) if original else None
    return Dsn(
        id=(msg.get("Message-ID") or fallback_id).strip(),
        reporting_mta=_address(per_message.get("Reporting-MTA") or ""),
        failures=failures,
        outreach_message_id=int(raw_id) if raw_id and raw_id.strip().isdigit() else None,
        original_message_id=_header(original, "Message-ID"),
    )


def _header(msg: MimeMessage | None, name: str) -> str | None:
    value = msg.get(name) if msg is not None else None
    return str(value).strip() or None if value else None


def _address(field: str) -> str:
    """ "rfc822; jo@example.com" -> "jo@example.com" (the type prefix of RFC 3464 fields)."""
    value = field.partition(";")[2] if ";" in field else field
    return parseaddr(value.strip())[1].lower() or value.strip().lower()


def _original_headers(msg: MimeMessage) -> MimeMessage | None:
    """The returned message (message/rfc822) or its headers (text/rfc822-headers)."""
    for part in msg.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], MimeMessage):
                return payload[0]
        if kind == "text/rfc822-headers":
            text = part.get_payload(decode=True)
            if isinstance(text, bytes):
                return email.message_from_bytes(text, policy=email.policy.compat32)
    return None


# --- applying a DSN ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BounceResult:
    inbound_id: int | None
    hard: int
    soft: int
    duplicate: bool = False


def apply_dsn(session: Session, now: datetime, dsn: Dsn, sender: str) -> BounceResult:
    """Record the DSN once (its Message-ID is the inbound row's provider id) and act on it."""
    provider_id = f"dsn:{dsn.id}"[:64]
    if session.scalars(
        select(InboundMessage.id).where(InboundMessage.provider_id == provider_id)
    ).first():
        return BounceResult(None, 0, 0, duplicate=True)
    message = _find_message(session, dsn)
    inbound = InboundMessage(
        channel="email",
        provider_id=provider_id,
        from_address=sender or dsn.reporting_mta or "mailer-daemon",
        body="\n".join(
            f"{f.recipient}: {f.action} {f.status} {f.diagnostic}" for f in dsn.failures
        ),
        debtor_id=message.debtor_id if message else None,
        account_id=message.account_id if message else None,
        received_at=now,
        raw={
            "failures": [_as_dict(f) for f in dsn.failures],
            "message_id": message.id if message else None,
        },
    )
    session.add(inbound)
    session.flush()
    hard = [f for f in dsn.failures if f.hard]
    soft = [f for f in dsn.failures if f.soft and not f.hard]
    done = [f"{mask(f.recipient)} undeliverable ({f.status})" for f in hard]
    first = (hard or soft or list(dsn.failures))[:1]
    detail = {
        "dsn": dsn.id,
        "failures": [f"{f.action} {f.status}" for f in dsn.failures],
        "diagnostic": first[0].diagnostic if first else "",
    }
    if hard:
        # One event per bounced recipient; the first also moves the message sent -> bounced.
        bounced = (
            Transition(
                message.id,
                message.state,
                MessageState.BOUNCED,
                ACTOR,
                detail,
                Changes(error_code=hard[0].status, error_message=hard[0].diagnostic[:500]),
            )
            if message is not None
            else None
        )
        moved = events.record(
            session,
            now,
            [
                DeliveryEvent(
                    EventType.BOUNCED,
                    bounced if i == 0 else None,
                    Recipient("email", f.recipient),
                    ACTOR,
                    f"hard bounce {f.status}: {f.diagnostic}"[:500],
                )
                for i, f in enumerate(hard)
            ],
            only_from=(MessageState.SENT, MessageState.DELIVERED, MessageState.UNKNOWN),
        )
        if moved and message is not None:
            done.append(f"message {message.id} bounced")
    elif message is not None:
        # Soft: the receiving side retries; recorded, nothing changes.
        outbox.record_events(
            session,
            [
                Transition(
                    message.id,
                    message.state,
                    message.state,
                    ACTOR,
                    {**detail, "soft": "the receiving server retries"},
                )
            ],
            now,
        )
        done.append(f"message {message.id}: soft bounce recorded")
    inbound.intent = "bounce_hard" if hard else ("bounce_soft" if soft else "dsn")
    inbound.action = "; ".join(done) or "recorded (no failure)"
    return BounceResult(inbound.id, len(hard), len(soft))


def _as_dict(f: Failure) -> dict[str, str]:
    return {
        "recipient": f.recipient,
        "action": f.action,
        "status": f.status,
        "diagnostic": f.diagnostic,
    }


def _find_message(session: Session, dsn: Dsn) -> Message | None:
    """Our header first, then the Message-ID the channel recorded as the provider id."""
    if dsn.outreach_message_id is not None:
        found = session.get(Message, dsn.outreach_message_id)
        if found is not None and found.channel == "email":
            return found
    if dsn.original_message_id:
        return session.scalars(
            select(Message).where(Message.provider_id == dsn.original_message_id)
        ).first()
    return None


# --- reading a Maildir ------------------------------------------------------------------------


@dataclass
class BounceReport:
    read: int = 0
    hard: int = 0
    soft: int = 0
    duplicates: int = 0
    not_dsn: int = 0


class MaildirBounces:
    """DSNs from a Maildir: the one the mail server delivers the bounce address to, or the
    sandbox SMTP catcher's (then only mail whose envelope recipient is the bounce address).

    Keys already handled are remembered for the life of the process; across restarts the
    DSN's Message-ID on the inbound row keeps each one processed once.
    """

    def __init__(self, maildir: Path, bounce_address: str | None = None) -> None:
        self.maildir = Path(maildir)
        self.bounce_address = (bounce_address or "").lower() or None
        self._seen: set[str] = set()

    def _new(self) -> Iterator[tuple[str, bytes, str]]:
        if not (self.maildir / "new").is_dir() and not (self.maildir / "cur").is_dir():
            return
        box = mailbox.Maildir(self.maildir, factory=None, create=False)
        for key in sorted(box.keys()):
            if key in self._seen:
                continue
            raw = box.get_bytes(key)
            headers = email.message_from_bytes(raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0])
            if self.bounce_address is not None:
                rcpt = (headers.get("X-RcptTo") or "").lower()
                if self.bounce_address not in [a.strip() for a in rcpt.split(",")]:
                    self._seen.add(key)
                    continue
            yield key, raw, headers.get("X-MailFrom") or headers.get("From") or ""

    def process(self, factory: sessionmaker[Session], now: datetime) -> BounceReport:
        report = BounceReport()
        for key, raw, sender in self._new():
            report.read += 1
            try:
                dsn = parse_dsn(raw, fallback_id=f"maildir:{key}")
            except NotADsn as exc:
                log.warning("bounce mailbox: %s is not a DSN (%s); left for a person", key, exc)
                report.not_dsn += 1
                self._seen.add(key)
                continue
            try:
                with factory.begin() as session:
                    result = apply_dsn(session, now, dsn, sender)
            except IntegrityError:  # another process took the same DSN a moment earlier
                result = BounceResult(None, 0, 0, duplicate=True)
            self._seen.add(key)
            report.hard += result.hard
            report.soft += result.soft
            report.duplicates += result.duplicate
        if report.read:
            log.info("bounces: %s", report)
        return report


def bounce_source(config: Config) -> MaildirBounces | None:
    """Where this deployment's bounces arrive: the configured Maildir, or in email sandbox
    mode the SMTP catcher's (filtered to the bounce address); None when neither is set."""
    settings = config.file.inbound
    if settings.bounce_maildir:
        return MaildirBounces(Path(settings.bounce_maildir))
    if config.file.email.mode == "sandbox" and settings.bounce_address:
        return MaildirBounces(Path(config.file.sandbox.dir) / "mail", settings.bounce_address)
    return None
