"""Messages planned outside a campaign (follow-ups, notices): the dispatcher sends them like any
step."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from outreach.db import outbox
from outreach.db.models import Message
from outreach.db.outbox import Transition
from outreach.vocabulary import MessageState


def plan_message(
    session: Session,
    now: datetime,
    *,
    debtor_id: int,
    account_id: int | None,
    channel: str,
    template: str,
    kind: str,
    step_id: str,
    due_at: datetime,
    cause: str,
) -> int:
    """Plan one message outside any campaign; the dispatcher checks and sends it like any
    other (compliance included). Returns its id."""
    message = Message(
        debtor_id=debtor_id,
        account_id=account_id,
        channel=channel,
        kind=kind,
        template=template,
        step_id=step_id,
        state=MessageState.PLANNED,
        due_at=due_at,
        created_at=now,
        updated_at=now,
    )
    session.add(message)
    session.flush()
    outbox.record_events(
        session,
        [Transition(message.id, None, MessageState.PLANNED, cause, {"reason": step_id})],
        now,
    )
    return message.id
