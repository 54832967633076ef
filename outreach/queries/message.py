"""One outbound message with the events of its life, oldest first: the message page of
the console and GET /api/messages/{id}."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.db.models import Message, MessageEvent


@dataclass(frozen=True)
class MessageRecord:
    message: Message
    events: list[MessageEvent]


def message_record(session: Session, message_id: int) -> MessageRecord | None:
    message = session.get(Message, message_id)
    if message is None:
        return None
    events = session.scalars(
        select(MessageEvent).where(MessageEvent.message_id == message_id).order_by(MessageEvent.id)
    )
    return MessageRecord(message, list(events))
