"""The words every layer shares: channels, message kinds and states, holds, call outcomes.

One definition each. This module imports nothing of outreach, so every package may use it,
the pure compliance rules included. The members are `StrEnum`s: they compare equal to,
store and serialize as their plain strings ("sms", "planned"), which the database, the
config files, the JSON API and `outreach compliance explain` already use.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Channel(StrEnum):
    """What a message goes out on: a campaign step, a message row, a channel adapter."""

    SMS = "sms"
    EMAIL = "email"
    LETTER = "letter"


class ContactChannel(StrEnum):
    """What the compliance rules count and window: the message channels and calls agents
    place (calls are recorded, never sent by outreach)."""

    SMS = "sms"
    EMAIL = "email"
    LETTER = "letter"
    CALL = "call"


class MessageKind(StrEnum):
    """Why a message is sent; the compliance rules treat each kind differently."""

    COLLECTION = "collection"  # a campaign's reminder: capped, windowed, paused by a promise
    VALIDATION_NOTICE = "validation_notice"  # the Regulation F notice: never capped
    CEASE_ACK = "cease_ack"  # acknowledging a cease request: allowed under a cease hold
    REMEDY = "remedy"  # a notice of a specific remedy: allowed under a cease hold
    PROMISE_FOLLOWUP = "promise_followup"  # planned after a promise to pay
    REPLY = "reply"  # an answer to the consumer's SMS: not counted, capped or windowed
    OPT_OUT_CONFIRMATION = "opt_out_confirmation"  # the one confirmation of a STOP


# The kinds a campaign step may declare; the others are planned by outreach itself.
STEP_KINDS: Final = (
    MessageKind.COLLECTION,
    MessageKind.VALIDATION_NOTICE,
    MessageKind.CEASE_ACK,
    MessageKind.REMEDY,
)
# Answers to the consumer: never the message a reply is taken to answer.
RESPONSE_KINDS: Final = (MessageKind.REPLY, MessageKind.OPT_OUT_CONFIRMATION)


class MessageState(StrEnum):
    """A message's place in the state machine (docs/architecture.md draws it)."""

    PLANNED = "planned"
    DEFERRED = "deferred"  # due_at moved to the decision's not_before
    CLAIMED = "claimed"  # leased by a dispatcher; nothing sent yet
    READY = "ready"  # checked and rendered, waiting for its channel; counts against caps
    SENDING = "sending"  # handed to the channel; a crash here means "unknown"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    BOUNCED = "bounced"
    BLOCKED = "blocked"  # a compliance rule forbids it
    SKIPPED = "skipped"  # a step condition was not met (no email on file, already paid...)
    CANCELLED = "cancelled"  # the enrollment stopped
    UNKNOWN = "unknown"  # the send may have happened: counted against caps, never resent


# States in which a message counts as a contact (frequency caps, history).
CONTACT_STATES = (
    MessageState.READY,
    MessageState.SENDING,
    MessageState.SENT,
    MessageState.DELIVERED,
    MessageState.UNDELIVERED,
    MessageState.UNKNOWN,
)
# States the dispatcher claims from when due_at has come.
# The largest id either database stores (BIGINT; SQLite's INTEGER is 64-bit).
ID_MAX: Final = 2**63 - 1

DUE_STATES = (MessageState.PLANNED, MessageState.DEFERRED)
# Channels whose send may simply run again: a letter is produced idempotently (its manifest
# says whether it exists), so an interrupted letter goes back to planned, never to unknown.
RERUNNABLE_CHANNELS = (Channel.LETTER,)
# States a message is in while a worker holds its lease.
LEASED_STATES = (MessageState.CLAIMED, MessageState.READY, MessageState.SENDING)


class BreakerState(StrEnum):
    """A provider's circuit breaker (pipeline.breaker): closed sends, open waits, half-open
    lets one trial send through."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class HoldKind(StrEnum):
    """Holds that stop collection contact (opt-outs are per contact point, not holds)."""

    CEASE = "cease"
    ATTORNEY = "attorney"
    DISPUTE = "dispute"
    BANKRUPTCY = "bankruptcy"
    DECEASED = "deceased"


class CallOutcome(StrEnum):
    """A call an agent placed: F8 counts attempts and quiets the line after a conversation."""

    ATTEMPT = "attempt"
    CONVERSATION = "conversation"


class CampaignStatus(StrEnum):
    """A paused campaign plans and sends nothing until it is resumed."""

    ACTIVE = "active"
    PAUSED = "paused"


class Role(StrEnum):
    """Console and API roles; each has every right of the ones before it."""

    AGENT = "agent"
    OPS = "ops"
    ADMIN = "admin"


# Lower-case three-letter weekdays, Monday first (stated inconvenient times, the schedule).
WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
