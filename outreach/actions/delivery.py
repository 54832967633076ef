"""Delivery events: what we learn about a message we sent, at send time or later, in one
vocabulary (after django-anymail's event types) and through one audited function.

The dispatcher (the channel's answer to a send), Twilio status callbacks and RFC 3464
bounces all describe what happened as a `DeliveryEvent` and hand it to `record`: the
message moves through the outbox (with its MessageEvent), and an event that says the
recipient refuses our messages changes the contact point through actions.contacts (with its
audit event). So a Twilio 21610 reads the same on the debtor's timeline whether the send
itself or a later status callback reported it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.actions.contacts import mark_undeliverable, set_opt_out
from outreach.db import outbox
from outreach.db.models import ContactPoint
from outreach.db.outbox import Transition


class EventType(StrEnum):
    SENT = "sent"  # the provider accepted it
    DEFERRED = "deferred"  # certainly not sent; tried again later
    UNKNOWN = "unknown"  # it may or may not have gone out
    FAILED = "failed"  # will not be sent (or the provider gave up)
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"  # the carrier could not deliver it
    BOUNCED = "bounced"  # a hard bounce: the address does not take mail
    OPTED_OUT = "opted_out"  # the recipient refuses our messages (Twilio 21610, 30004)
    UNDELIVERABLE = "undeliverable"  # the address does not exist (Twilio 30005)


# What an event means for the recipient's contact point.
OPTS_OUT = frozenset({EventType.OPTED_OUT})
MAKES_UNDELIVERABLE = frozenset({EventType.BOUNCED, EventType.UNDELIVERABLE})

# Twilio's error codes that say something about the number (send time or status callback).
TWILIO = "provider:twilio"
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


def twilio_refusal(error_code: str | None) -> EventType | None:
    """OPTED_OUT or UNDELIVERABLE when a Twilio error code says the number refuses us."""
    if error_code in OPT_OUT_CODES:
        return EventType.OPTED_OUT
    if error_code in DEAD_NUMBER_CODES:
        return EventType.UNDELIVERABLE
    return None


def twilio_reason(error_code: str | None) -> str:
    return f"Twilio error {error_code}: {ERROR_TEXT.get(error_code or '', '')}"


@dataclass(frozen=True, slots=True)
class Recipient:
    kind: str  # phone | email
    address: str


@dataclass(frozen=True, slots=True)
class DeliveryEvent:
    """One report about one message. `transition` is the message's move (None: the report
    moves nothing); `recipient`, `reporter` (the audit actor) and `reason` are what an
    opt-out or an undeliverable address is recorded with."""

    type: EventType
    transition: Transition | None
    recipient: Recipient | None = None
    reporter: str = ""
    reason: str = ""


def record(
    session: Session,
    now: datetime,
    events: Sequence[DeliveryEvent],
    *,
    only_from: Sequence[str],
    lease_owner: str | None = None,
) -> list[Transition]:
    """Apply the events' transitions (outbox rules: `only_from`, `lease_owner`), then what
    they mean for each recipient, whether or not the message moved (a late report about a
    refused number still counts). The caller commits. Returns the transitions that took
    effect."""
    moved = outbox.apply(
        session,
        [e.transition for e in events if e.transition is not None],
        now,
        only_from=only_from,
        lease_owner=lease_owner,
    )
    for event in events:
        if event.recipient is not None and event.type in OPTS_OUT | MAKES_UNDELIVERABLE:
            _refused(session, now, event, event.recipient)
    return moved


def _refused(session: Session, now: datetime, event: DeliveryEvent, to: Recipient) -> None:
    """Every contact point with this address (a number that refuses us refuses us for every
    debtor it is on file for), each change audited."""
    points = session.scalars(
        select(ContactPoint)
        .where(ContactPoint.kind == to.kind, ContactPoint.value == to.address)
        .order_by(ContactPoint.id)
    )
    for point in points:
        if event.type in OPTS_OUT:
            set_opt_out(session, now, event.reporter, point, opted_out=True, reason=event.reason)
        else:
            mark_undeliverable(session, now, event.reporter, point, reason=event.reason)
