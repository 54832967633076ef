"""Unknown sends settled by ops: resolved as sent or not sent, or requeued through compliance.
Each is one transaction through `outreach.actions.unknowns` (which checks the state and
audits); an id that is no message is NotFound."""

from __future__ import annotations

from sqlalchemy.orm import Session

from outreach.actions.unknowns import requeue_unknown, resolve_unknown
from outreach.db.models import Message
from outreach.services.contract import Acting, Outcome, found
from outreach.services.inputs import RequeueIn, ResolveIn


def resolve(session: Session, by: Acting, message_id: int, data: ResolveIn) -> Outcome:
    """An unknown message becomes `sent` (data.sent) or `failed` ("not_sent")."""
    with session.begin():
        message = found(session, Message, message_id, "message")
        resolve_unknown(session, by.now, by.actor, message, sent=data.sent, note=data.note)
    return Outcome(id=message_id)


def requeue(session: Session, by: Acting, message_id: int, data: RequeueIn) -> Outcome:
    """An unknown message is planned again, due now (compliance runs before any send)."""
    with session.begin():
        message = found(session, Message, message_id, "message")
        requeue_unknown(session, by.now, by.actor, message, note=data.note)
    return Outcome(id=message_id)
