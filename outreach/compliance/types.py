"""Frozen data the rules read (a snapshot) and return (a Decision). No I/O here or below."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from outreach.vocabulary import CallOutcome, MessageKind


class Verdict(StrEnum):
    ALLOW = "allow"
    DEFER = "defer"
    BLOCK = "block"


@dataclass(frozen=True, slots=True)
class EmailAddress:
    address: str
    work: bool = False  # employer-provided (F12)
    consented: bool = False  # the consumer consented to (or used) this address


@dataclass(frozen=True, slots=True)
class InconvenientTime:
    """A consumer-stated inconvenient time (F3).

    Local [start, end) on `days` (0=Mon; None = every day), on one channel or all (None).
    An interval with end <= start runs past midnight: `days` names the day it starts on.
    """

    start: time
    end: time
    days: frozenset[int] | None = None
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class DebtorSnapshot:
    state: str | None = None
    zip: str | None = None
    # ZIPs of the consumer's other addresses on file: more places they may be (F2). The
    # state rules follow `state` and `zip`, the address of record.
    other_zips: tuple[str, ...] = ()
    timezone: str | None = None  # an IANA zone the consumer stated
    phones: tuple[str, ...] = ()  # E.164
    emails: tuple[EmailAddress, ...] = ()
    # "cease", "attorney", "bankruptcy", "deceased", "opt_out:sms", "opt_out:email", ...
    holds: frozenset[str] = frozenset()
    # Individual addresses opted out (F7): E.164 phones, lower-case emails.
    opted_out: frozenset[str] = frozenset()
    inconvenient_times: tuple[InconvenientTime, ...] = ()
    # Addresses (E.164 phones, lower-case emails) the consumer consented to (NYC, F12).
    consented: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    id: int | None = None
    state: str | None = None
    time_barred: bool = False
    holds: frozenset[str] = frozenset()  # "dispute", "attorney", "bankruptcy", "cease", ...
    validation_notice_sent_at: datetime | None = None
    disputed_at: datetime | None = None
    promise_due_on: date | None = None  # an open promise to pay: collection pauses until then


@dataclass(frozen=True, slots=True)
class Contact:
    """One past contact that counts against caps: a sent or unknown message, or a call.

    Answers to the consumer (policy `responses`, e.g. HELP replies) are not contacts: the
    loader leaves them out. `kind` tells a call attempt from a conversation (F8).
    """

    at: datetime
    channel: str
    kind: CallOutcome = CallOutcome.ATTEMPT
    account_id: int | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    """What is about to be sent."""

    channel: str
    to: str | None = None
    kind: str = MessageKind.COLLECTION  # a MessageKind value
    content: str | None = None  # rendered text: when given, the content checks run too
    threatens_suit: bool = False  # the template declares it (F18 blocks it on time-barred debt)
    first_contact: bool | None = None  # for the F14 check; None = derived from the history


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    not_before: datetime | None = None
    rules: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    zones: tuple[str, ...] = field(default=())  # candidate time zones considered
    segments: int | None = None  # SMS with content: segments and encoding of `text`
    encoding: str | None = None  # "GSM-7" | "UCS-2"
    text: str | None = None  # the content as it would be sent (SMS punctuation normalized)

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOW

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "not_before": self.not_before.isoformat() if self.not_before else None,
            "rules": list(self.rules),
            "reasons": list(self.reasons),
            "zones": list(self.zones),
            "segments": self.segments,
            "encoding": self.encoding,
        }
