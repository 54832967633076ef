"""Frozen data the rules read (a snapshot) and return (a Decision). No I/O here or below."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum
from typing import Any, Literal


class Verdict(StrEnum):
    ALLOW = "allow"
    DEFER = "defer"
    BLOCK = "block"


@dataclass(frozen=True, slots=True)
class EmailAddress:
    address: str
    work: bool = False


@dataclass(frozen=True, slots=True)
class InconvenientTime:
    """A consumer-stated inconvenient time (F3).

    Local [start, end) on `days` (0=Mon; None = every day), on one channel or all (None).
    """

    start: time
    end: time
    days: frozenset[int] | None = None
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class DebtorSnapshot:
    state: str | None = None
    zip: str | None = None
    timezone: str | None = None  # an IANA zone the consumer stated
    phones: tuple[str, ...] = ()  # E.164
    emails: tuple[EmailAddress, ...] = ()
    # "cease", "attorney", "bankruptcy", "deceased", "opt_out:sms", "opt_out:email", ...
    holds: frozenset[str] = frozenset()
    # Individual addresses opted out (F7): E.164 phones, lower-case emails.
    opted_out: frozenset[str] = frozenset()
    inconvenient_times: tuple[InconvenientTime, ...] = ()


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    id: int | None = None
    state: str | None = None
    time_barred: bool = False
    holds: frozenset[str] = frozenset()  # "dispute", "attorney", "bankruptcy", "cease", ...
    validation_notice_sent_at: datetime | None = None
    disputed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    """One past contact that counts against caps: a sent or unknown message, or a call."""

    at: datetime
    channel: str
    kind: Literal["attempt", "conversation"] = "attempt"
    account_id: int | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    """What is about to be sent."""

    channel: str
    to: str | None = None
    # Or "validation_notice", "cease_ack", "remedy", "opt_out_confirmation".
    kind: str = "collection"
    content: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    not_before: datetime | None = None
    rules: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    zones: tuple[str, ...] = field(default=())  # candidate time zones considered

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
        }
