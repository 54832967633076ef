"""Messages whose send may or may not have happened (`unknown`), oldest first: what ops look
at to resolve them (`outreach unknown list`, GET /api/unknown, the console's unknown page).
Recipients and error text are masked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outreach.db.models import Debtor, Message, MessageEvent
from outreach.masking import mask, mask_text
from outreach.vocabulary import MessageState


@dataclass(frozen=True, slots=True)
class UnknownSend:
    id: int
    debtor_id: int
    debtor: str  # external id
    channel: str
    to: str  # masked
    campaign: str | None
    step: str | None
    since: datetime  # when it became unknown
    sent_at: datetime | None  # when it was handed to the channel
    attempts: int
    provider_id: str | None
    error: str | None  # masked

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "debtor_id": self.debtor_id,
            "debtor": self.debtor,
            "channel": self.channel,
            "to": self.to,
            "campaign": self.campaign,
            "step": self.step,
            "since": self.since.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "attempts": self.attempts,
            "provider_id": self.provider_id,
            "error": self.error,
        }


def unknown_sends(
    session: Session, *, channel: str | None = None, limit: int = 200
) -> list[UnknownSend]:
    """Unknown messages, the longest waiting first (by when they became unknown)."""
    became = (
        select(MessageEvent.message_id, func.max(MessageEvent.at).label("at"))
        .where(MessageEvent.to_state == MessageState.UNKNOWN)
        .group_by(MessageEvent.message_id)
        .subquery()
    )
    since = func.coalesce(became.c.at, Message.updated_at)
    query = (
        select(Message, Debtor.external_id, since.label("since"))
        .join(Debtor, Debtor.id == Message.debtor_id)
        .outerjoin(became, became.c.message_id == Message.id)
        .where(Message.state == MessageState.UNKNOWN)
        .order_by(since, Message.id)
        .limit(limit)
    )
    if channel:
        query = query.where(Message.channel == channel)
    return [
        UnknownSend(
            id=m.id,
            debtor_id=m.debtor_id,
            debtor=debtor,
            channel=m.channel,
            to=mask(m.to_address),
            campaign=m.campaign,
            step=m.step_id,
            since=at,
            sent_at=m.sent_at,
            attempts=m.attempts,
            provider_id=m.provider_id,
            error=mask_text(m.error_message) if m.error_message else None,
        )
        for m, debtor, at in session.execute(query)
    ]
