"""Unknown sends settled by a person: a message whose send may or may not have happened
(`unknown`: counted against caps, never resent by itself) is resolved as sent, resolved as not
sent, or requeued to go through compliance again.

Only an `unknown` message can be settled here; anything else is refused (ActionError) with
the state it is in. The move goes through the outbox (`only_from=unknown`, so a row a status
callback or the settling loop moved meanwhile is refused, not overwritten) and is audited
with the person's note, in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from outreach.actions.audit import ActionError, audit
from outreach.db import outbox
from outreach.db.models import Message
from outreach.db.outbox import Changes, Transition
from outreach.vocabulary import MessageState

NOT_SENT = "not_sent"  # the error code of a message a person resolved as not sent
CAUSE_LENGTH = 64  # MessageEvent.cause


def _settle(
    session: Session,
    now: datetime,
    actor: str,
    message: Message,
    *,
    to_state: str,
    action: str,
    reason: str,
    values: Changes,
    note: str,
    extra: dict[str, Any] | None = None,
) -> Transition:
    if message.state != MessageState.UNKNOWN:
        raise ActionError(
            f"message {message.id} is {message.state}, not unknown: only an unknown send "
            "can be resolved or requeued"
        )
    detail: dict[str, Any] = {"reason": reason, **(extra or {})}
    if note:
        detail["note"] = note
    moved = outbox.apply(
        session,
        [Transition(message.id, message.state, to_state, actor[:CAUSE_LENGTH], detail, values)],
        now,
        only_from=(MessageState.UNKNOWN,),
    )
    if not moved:
        session.refresh(message)
        raise ActionError(
            f"message {message.id} moved to {message.state} meanwhile; reload and look again"
        )
    audit(
        session,
        now,
        actor,
        action,
        debtor_id=message.debtor_id,
        account_id=message.account_id,
        subject=f"message:{message.id}",
        detail={k: v for k, v in detail.items() if k != "reason"},
    )
    session.refresh(message)
    return moved[0]


def resolve_unknown(
    session: Session, now: datetime, actor: str, message: Message, *, sent: bool, note: str = ""
) -> Transition:
    """The person knows what happened. Sent: the message is `sent` (its send time kept, or
    now), the error text cleared. Not sent: `failed` with error code "not_sent" and who said
    so; a failed message no longer counts against caps."""
    if sent:
        values = Changes(
            sent_at=message.sent_at or now,
            error_code=None,
            error_message=None,
            lease_owner=None,
            lease_expires_at=None,
        )
        return _settle(
            session,
            now,
            actor,
            message,
            to_state=MessageState.SENT,
            action="message.resolved_sent",
            reason=f"resolved as sent by {actor}",
            values=values,
            note=note,
        )
    text = f"not sent (resolved by {actor})" + (f": {note}" if note else "")
    values = Changes(
        sent_at=None,
        error_code=NOT_SENT,
        error_message=text,
        lease_owner=None,
        lease_expires_at=None,
    )
    return _settle(
        session,
        now,
        actor,
        message,
        to_state=MessageState.FAILED,
        action="message.resolved_not_sent",
        reason=f"resolved as not sent by {actor}",
        values=values,
        note=note,
    )


def requeue_unknown(
    session: Session, now: datetime, actor: str, message: Message, *, note: str = ""
) -> Transition:
    """Plan the message again, due now: the dispatcher checks compliance (caps, window,
    holds) before any send. Attempts are kept; the lease, the error and the provider id of
    the earlier attempt are cleared (kept in the event), so a late report about that attempt
    cannot settle the new one."""
    extra = {"previous_provider_id": message.provider_id} if message.provider_id else None
    values = Changes(
        due_at=now,
        sent_at=None,
        provider_id=None,
        error_code=None,
        error_message=None,
        lease_owner=None,
        lease_expires_at=None,
    )
    return _settle(
        session,
        now,
        actor,
        message,
        to_state=MessageState.PLANNED,
        action="message.requeued",
        reason=f"requeued by {actor}: compliance is checked again before any send",
        values=values,
        note=note,
        extra=extra,
    )
