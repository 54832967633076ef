"""Record: what a channel's SendResult means for the message, as a delivery event.

sent -> sent (provider id, artifact); unknown -> unknown (never resent), except for a channel
that may run again (letters: back to planned); retryable -> planned again after a backoff
(Retry-After first, then full jitter), until the attempts run out; permanent -> failed.
A result that says the recipient opted out (Twilio 21610) is an `opted_out` event:
actions.delivery opts the number out, exactly as when a status callback reports the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from outreach.actions.delivery import TWILIO, DeliveryEvent, EventType, Recipient, twilio_reason
from outreach.channels.base import SendResult, SendStatus
from outreach.db.outbox import Changes, Transition
from outreach.pipeline.backoff import backoff
from outreach.pipeline.contacts import CONTACT_KIND
from outreach.pipeline.prepare import Send
from outreach.vocabulary import RERUNNABLE_CHANNELS, MessageState

# Who reports a channel's results about a recipient (the audit actor of an opt-out).
REPORTERS = {"sms": TWILIO}


@dataclass(frozen=True, slots=True)
class RetryRule:
    max_attempts: int
    base: timedelta
    maximum: timedelta


def delivery_event(
    send: Send, result: SendResult, now: datetime, cause: str, retry: RetryRule
) -> DeliveryEvent:
    """The event for `send`'s result, its transition out of `sending` included."""
    base = Changes(lease_owner=None, lease_expires_at=None)
    detail: dict[str, Any] = {"status": result.status.value, **result.detail}
    if result.error_code:
        detail["error_code"] = result.error_code
    error = Changes(error_code=result.error_code, error_message=result.error_message)

    def move(to_state: str, kind: EventType, *changes: Changes) -> DeliveryEvent:
        values = base.copy()
        for more in changes:
            values.update(more)
        transition = Transition(
            send.message_id, MessageState.SENDING, to_state, cause, detail, values
        )
        if not result.opted_out:
            return DeliveryEvent(kind, transition)
        return DeliveryEvent(
            EventType.OPTED_OUT,
            transition,
            Recipient(CONTACT_KIND[send.channel], send.outbound.to),
            REPORTERS.get(send.channel, cause),
            twilio_reason(result.error_code) if send.channel == "sms" else "opted out",
        )

    if result.status is SendStatus.SENT:
        sent = Changes(
            provider_id=result.provider_id,
            sent_at=now,
            artifact=result.detail.get("path"),
            error_code=None,  # a send the reaper had marked unknown: no stale error text
            error_message=None,
        )
        return move(MessageState.SENT, EventType.SENT, sent)
    if result.status is SendStatus.UNKNOWN and send.channel in RERUNNABLE_CHANNELS:
        detail["reason"] = "interrupted; produced again (idempotent per message)"
        return move(MessageState.PLANNED, EventType.DEFERRED, error, Changes(sent_at=None))
    if result.status is SendStatus.UNKNOWN:
        return move(MessageState.UNKNOWN, EventType.UNKNOWN, error)
    attempts = send.attempts + 1
    if result.status is SendStatus.RETRYABLE and attempts < retry.max_attempts:
        retry_at = now + backoff(attempts, retry.base, retry.maximum, result.retry_after)
        detail["retry_at"] = retry_at.isoformat()
        if result.retry_after:
            detail["retry_after"] = result.retry_after
        later = Changes(due_at=retry_at, sent_at=None)
        return move(MessageState.PLANNED, EventType.DEFERRED, error, later)
    return move(MessageState.FAILED, EventType.FAILED, error, Changes(sent_at=None))
