"""The replies to an inbound SMS, logged as outbound messages linked to it (`in_reply_to_id`), so
the message log and the timeline show what was answered."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from outreach.db import outbox
from outreach.db.models import InboundMessage, Message
from outreach.db.outbox import Transition
from outreach.inbound.sender import Sender
from outreach.vocabulary import MessageKind, MessageState

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reply:
    name: str
    text: str
    kind: MessageKind = MessageKind.REPLY


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """Whom the replies are logged against: decided with the action, kept on the inbound row
    so replies rendered after that transaction (or after a crash) log the same way."""

    debtor_id: int
    account_id: int | None
    contact_point_id: int | None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ReplyTarget | None:
        return cls(**data) if data else None


def reply_target(sender: Sender) -> ReplyTarget | None:
    """A number shared by several debtors logs it on the first; replies to unknown numbers
    have no debtor to log against (their text stays on the inbound row, raw["replies"])."""
    debtor_id = sender.debtor.id if sender.debtor else None
    if debtor_id is None and sender.points:  # a shared number: log it once, on the first
        debtor_id = sender.points[0].debtor_id
    if debtor_id is None:
        return None
    point = next((p for p in sender.points if p.debtor_id == debtor_id), None)
    account_id = sender.account.id if sender.account else None
    return ReplyTarget(debtor_id, account_id, point.id if point else None)


def log_replies(
    session: Session,
    now: datetime,
    target: ReplyTarget | None,
    inbound: InboundMessage,
    replies: Sequence[Reply],
) -> None:
    """Each reply is an outbound message in the log, already sent (it went out as TwiML),
    linked to the inbound one."""
    if target is None:
        return
    for r in replies:
        message = Message(
            debtor_id=target.debtor_id,
            account_id=target.account_id,
            campaign=None,
            channel="sms",
            kind=r.kind,
            template=f"sms/replies/{r.name}",
            contact_point_id=target.contact_point_id,
            to_address=inbound.from_address,
            body=r.text,
            state=MessageState.SENT,
            due_at=now,
            sent_at=now,
            created_at=now,
            updated_at=now,
            attempts=1,
            in_reply_to_id=inbound.id,
        )
        session.add(message)
        session.flush()
        outbox.record_events(
            session,
            [
                Transition(
                    message.id,
                    None,
                    MessageState.SENT,
                    "inbound",
                    {"reason": f"reply to inbound {inbound.id}", "via": "twiml"},
                )
            ],
            now,
        )
