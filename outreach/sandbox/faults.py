"""Faults a sandbox stand-in serves when asked: the next n requests refused, a storm of refusals
for a while, or the next n answered late. Operators rehearse outages with them (over HTTP, see
`sandbox.admin`) and tests drive workers in other processes through them.

One `FaultInjector` per stand-in. It is shared across threads: the SMTP catcher asks it from
aiosmtpd's thread while the admin endpoints change it from uvicorn's loop, hence the lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class Fault:
    """One refusal. `status` is the HTTP status (Twilio) or the SMTP reply code; `code` is
    Twilio's error code (the same number for SMTP); `retry_after` in seconds, when given."""

    status: int
    code: int
    message: str
    retry_after: float | None = None


class FaultInjector:
    """Pending faults of one stand-in, and how many requests it accepted and refused."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._failures: list[Fault] = []
        self._delays: list[float] = []
        self._storm: tuple[float, Fault] | None = None  # (ends at, on the monotonic clock)
        self.accepted = 0
        self.refused = 0

    def fail_next(self, n: int, fault: Fault) -> None:
        """Refuse the next `n` requests with `fault` (after any already pending)."""
        with self._lock:
            self._failures.extend([fault] * n)

    def storm(self, seconds: float, fault: Fault) -> None:
        """Refuse every request with `fault` for `seconds` from now (replaces a running storm).
        Pending `fail_next` faults wait until it ends."""
        with self._lock:
            self._storm = (self._monotonic() + seconds, fault)

    def delay_next(self, n: int, seconds: float) -> None:
        """Accept the next `n` requests but answer each only after `seconds`: a lost answer."""
        with self._lock:
            self._delays.extend([seconds] * n)

    def clear(self) -> None:
        """Drop every pending fault, delay and storm (the counts stay)."""
        with self._lock:
            self._failures.clear()
            self._delays.clear()
            self._storm = None

    def take_fault(self) -> Fault | None:
        """The fault to answer this request with, if any (counted as refused)."""
        with self._lock:
            fault = self._storm_fault()
            if fault is None and self._failures:
                fault = self._failures.pop(0)
            if fault is not None:
                self.refused += 1
            return fault

    def take_delay(self) -> float:
        with self._lock:
            return self._delays.pop(0) if self._delays else 0.0

    def note_accepted(self) -> None:
        with self._lock:
            self.accepted += 1

    @property
    def pending_failures(self) -> int:
        with self._lock:
            return len(self._failures)

    def state(self) -> dict[str, Any]:
        """What is pending, as JSON: failures (in order, runs of equal faults folded), delays,
        the storm with its end (UTC) and seconds left, and the counts."""
        with self._lock:
            storm = self._storm_fault()
            left = self._storm[0] - self._monotonic() if storm and self._storm else 0.0
            failures: list[dict[str, Any]] = []
            for fault in self._failures:
                if failures and failures[-1]["fault"] == fault:
                    failures[-1]["n"] += 1
                else:
                    failures.append({"n": 1, "fault": fault})
            return {
                "pending_failures": [{"n": f["n"], **asdict(f["fault"])} for f in failures],
                "pending_delays": list(self._delays),
                "storm": None
                if storm is None
                else {
                    **asdict(storm),
                    "until": (datetime.now(UTC) + timedelta(seconds=left)).isoformat(),
                    "seconds_left": round(left, 3),
                },
                "accepted": self.accepted,
                "refused": self.refused,
            }

    def _storm_fault(self) -> Fault | None:
        if self._storm is None:
            return None
        ends, fault = self._storm
        if self._monotonic() >= ends:
            self._storm = None
            return None
        return fault
