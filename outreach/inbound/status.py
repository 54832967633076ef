"""Twilio status callbacks -> message states, forward only.

Callbacks arrive late and out of order (a "sent" after "delivered"), and Twilio retries
them. States only move forward: sending/unknown < sent < delivered | undelivered | failed
(the three final ones never replace each other). A callback that would move a message
backwards, or sideways, changes nothing but is still recorded as a MessageEvent with
from_state == to_state and `"ignored": "out of order"`, so the log shows every report.

Error codes that mean the number refuses our messages (21610 unsubscribed, 30004 blocked)
opt the number out; 30005 (unknown handset: the number does not exist) marks it
undeliverable. A callback for a MessageSid we never sent is answered 200 (so Twilio stops
retrying) and logged: it may come from another application on the same account.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.actions.contacts import mark_undeliverable, set_opt_out
from outreach.db.models import ContactPoint, Message, MessageState
from outreach.masking import mask
from outreach.pipeline import outbox
from outreach.pipeline.outbox import Transition

log = logging.getLogger(__name__)

ACTOR = "provider:twilio"

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
OPT_OUT_CODES = frozenset({"21610", "30004"})
DEAD_NUMBER_CODES = frozenset({"30005"})
ERROR_TEXT = {
    "21610": "Attempt to send to unsubscribed recipient",
    "30003": "Unreachable destination handset",
    "30004": "Message blocked",
    "30005": "Unknown destination handset",
    "30006": "Landline or unreachable carrier",
    "30007": "Message filtered by the carrier",
    "30008": "Unknown error",
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
) -> StatusResult:
    """Apply one callback (the caller commits). Unknown sids are logged and skipped."""
    message = session.scalars(select(Message).where(Message.provider_id == sid)).first()
    if message is None:
        log.warning("status callback for unknown MessageSid %s (%s): ignored", sid, status)
        return StatusResult(None, None, False)
    change = plan(message.state, status)
    detail: dict[str, str] = {"provider_status": status.lower()}
    values: dict[str, str | None] = {}
    if error_code:
        detail["error_code"] = error_code
        values = {"error_code": error_code, "error_message": ERROR_TEXT.get(error_code)}
    moved = False
    if change.moves:
        moved = bool(
            outbox.apply(
                session,
                [Transition(message.id, message.state, change.to_state, ACTOR, detail, values)],
                now,
                # Forward only, even against a concurrent callback for the same message.
                only_from=[s for s, r in RANK.items() if r < RANK[change.to_state]],
            )
        )
    if not moved:
        if change.ignored:
            detail["ignored"] = change.ignored
        outbox.record_events(
            session, [Transition(message.id, message.state, message.state, ACTOR, detail)], now
        )
    if error_code in OPT_OUT_CODES | DEAD_NUMBER_CODES and message.to_address:
        _refused_number(session, now, message.to_address, error_code)
    session.refresh(message)
    return StatusResult(message.id, message.state, moved)


def _refused_number(session: Session, now: datetime, phone: str, code: str | None) -> None:
    points = session.scalars(
        select(ContactPoint).where(ContactPoint.kind == "phone", ContactPoint.value == phone)
    )
    reason = f"Twilio error {code}: {ERROR_TEXT.get(code or '', '')}"
    for point in points:
        if code in OPT_OUT_CODES:
            set_opt_out(session, now, ACTOR, point, opted_out=True, reason=reason)
        else:
            mark_undeliverable(session, now, ACTOR, point, reason=reason)
    log.info("number %s refused by the carrier (%s)", mask(phone), code)
