"""Twilio status callbacks -> message states, forward only.

Callbacks arrive late and out of order (a "sent" after "delivered"), and Twilio retries
them. States only move forward: sending/unknown < sent < delivered | undelivered | failed
(the three final ones never replace each other). A callback that would move a message
backwards, or sideways, changes nothing but is still recorded as a MessageEvent with
from_state == to_state and `"ignored": "out of order"`, so the log shows every report.

Error codes that mean the number refuses our messages (21610 unsubscribed, 30004 blocked)
opt the number out; 30005 (unknown handset: the number does not exist) marks it
undeliverable: both through actions.delivery, the path a 21610 at send time takes too.
A report that moves a message out of `unknown` (the send we could not confirm went out)
clears its "outcome unknown" error text and gives it a send time if it had none; the
settling loop (inbound.settle) hands its lookups to the same `record_status`.
A callback for a MessageSid we never sent is answered 200 (so Twilio stops retrying) and
logged: it may come from another application on the same account.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.actions import delivery as events
from outreach.actions.delivery import (
    ERROR_TEXT,
    TWILIO,
    DeliveryEvent,
    EventType,
    Recipient,
    twilio_reason,
    twilio_refusal,
)
from outreach.db import outbox
from outreach.db.models import Message
from outreach.db.outbox import Changes, Transition
from outreach.masking import mask
from outreach.vocabulary import MessageState

log = logging.getLogger(__name__)

ACTOR = TWILIO

# Twilio's statuses -> ours. "queued", "sending", "sent" all mean Twilio has it: our "sent".
PROVIDER_STATES: dict[str, str] = {
    "accepted": MessageState.SENT,
    "scheduled": MessageState.SENT,
    "queued": MessageState.SENT,
    "sending": MessageState.SENT,
    "sent": MessageState.SENT,
    "delivered": MessageState.DELIVERED,
    "read": MessageState.DELIVERED,
    "undelivered": MessageState.UNDELIVERED,
    "failed": MessageState.FAILED,
    "canceled": MessageState.FAILED,
}
RANK: dict[str, int] = {
    MessageState.SENDING: 1,
    MessageState.UNKNOWN: 1,
    MessageState.SENT: 2,
    MessageState.DELIVERED: 3,
    MessageState.UNDELIVERED: 3,
    MessageState.FAILED: 3,
}


class UnknownStatus(ValueError):
    """A MessageStatus value Twilio does not send."""


@dataclass(frozen=True, slots=True)
class StatusChange:
    to_state: str
    moves: bool  # False: recorded, state unchanged
    ignored: str | None = None  # why it does not move


def plan(current: str, provider_status: str) -> StatusChange:
    """The pure rule: where a message in `current` goes on this callback."""
    target = PROVIDER_STATES.get(provider_status.lower())
    if target is None:
        raise UnknownStatus(f"unknown MessageStatus {provider_status!r}")
    now_rank, new_rank = RANK.get(current), RANK[target]
    if now_rank is None:
        return StatusChange(current, False, f"message is {current}")
    if new_rank > now_rank:
        return StatusChange(target, True)
    if target == current:
        return StatusChange(current, False)
    return StatusChange(current, False, "out of order")


@dataclass(frozen=True, slots=True)
class StatusResult:
    message_id: int | None
    state: str | None
    moved: bool


def record_status(
    session: Session,
    now: datetime,
    *,
    sid: str,
    status: str,
    error_code: str | None = None,
    via: str | None = None,
) -> StatusResult:
    """Apply one callback (the caller commits). Unknown sids are logged and skipped. `via`
    names another source of the same report in the event ("lookup": inbound.settle)."""
    message = session.scalars(select(Message).where(Message.provider_id == sid)).first()
    if message is None:
        log.warning("status callback for unknown MessageSid %s (%s): ignored", sid, status)
        return StatusResult(None, None, False)
    change = plan(message.state, status)
    detail: dict[str, str] = {"provider_status": status.lower()}
    if via:
        detail["via"] = via
    values = Changes()
    if change.moves and message.state == MessageState.UNKNOWN:
        # The provider settles what we could not: the "outcome unknown" text is stale now,
        # and a confirmed send has a send time.
        values = Changes(error_code=None, error_message=None)
        if message.sent_at is None:
            values["sent_at"] = now
    if error_code:
        detail["error_code"] = error_code
        values.update(Changes(error_code=error_code, error_message=ERROR_TEXT.get(error_code)))
    refusal = twilio_refusal(error_code)
    event = DeliveryEvent(
        refusal or EventType(PROVIDER_STATES[status.lower()]),
        (
            Transition(message.id, message.state, change.to_state, ACTOR, detail, values)
            if change.moves
            else None
        ),
        Recipient("phone", message.to_address) if message.to_address else None,
        ACTOR,
        twilio_reason(error_code),
    )
    # Forward only, even against a concurrent callback for the same message.
    forward = [s for s, r in RANK.items() if r < RANK[change.to_state]] if change.moves else []
    moved = bool(events.record(session, now, [event], only_from=forward))
    if not moved:
        if change.ignored:
            detail["ignored"] = change.ignored
        outbox.record_events(
            session, [Transition(message.id, message.state, message.state, ACTOR, detail)], now
        )
    if refusal is not None and message.to_address:
        log.info("number %s refused by the carrier (%s)", mask(message.to_address), error_code)
    session.refresh(message)
    return StatusResult(message.id, message.state, moved)
