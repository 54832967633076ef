"""The circuit breaker of one provider, as pure functions over its state.

A provider that keeps failing (Twilio answering 500, an SMTP relay refusing connections) is
given a rest instead of a message every few milliseconds: after `consecutive_failures` in a
row, or when `failure_rate` of the last `window` results failed, the breaker opens and that
provider's messages wait (other channels go on). After `open_seconds` one worker may send one
trial message (half-open): success closes the breaker, failure opens it again for twice as
long, up to `max_open_seconds`.

The state lives in the database (db.workers.ProviderHealth), so every worker honours a
breaker any worker opened; pipeline.health reads and writes it. Libraries such as pybreaker
or purgatory keep state in the process or in Redis and count exceptions; here the state must
sit in the database the workers share and change in the same transaction as the results.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from outreach.vocabulary import BreakerState


@dataclass(frozen=True, slots=True)
class BreakerRules:
    consecutive_failures: int = 5
    failure_rate: float = 0.5
    window: int = 20
    min_calls: int = 10
    open_seconds: float = 10.0
    max_open_seconds: float = 300.0
    trial_seconds: float = 60.0  # a trial not reported by then is given to another worker


@dataclass(frozen=True, slots=True)
class Health:
    state: BreakerState = BreakerState.CLOSED
    consecutive_failures: int = 0
    recent: str = ""  # oldest first: "s" success, "f" failure
    opened_at: datetime | None = None
    retry_at: datetime | None = None
    open_seconds: float = 0.0
    trial_owner: str | None = None
    trial_expires_at: datetime | None = None
    last_error: str | None = None


def trial_due(health: Health, now: datetime) -> bool:
    """Whether a trial send may start now (open and rested, or a trial that was abandoned)."""
    if health.state is BreakerState.OPEN:
        return health.retry_at is not None and now >= health.retry_at
    if health.state is BreakerState.HALF_OPEN:
        return health.trial_expires_at is None or now >= health.trial_expires_at
    return False


def begin_trial(health: Health, worker: str, now: datetime, rules: BreakerRules) -> Health:
    return replace(
        health,
        state=BreakerState.HALF_OPEN,
        trial_owner=worker,
        trial_expires_at=now + timedelta(seconds=rules.trial_seconds),
    )


def observe(
    health: Health, failed: bool, error: str | None, now: datetime, rules: BreakerRules
) -> Health:
    """The state after one result. A late result from a send that started before the breaker
    opened changes nothing while it is open: only the trial decides."""
    if health.state is BreakerState.OPEN:
        return replace(health, last_error=error) if failed else health
    if health.state is BreakerState.HALF_OPEN:
        if failed:
            longer = min(rules.max_open_seconds, max(health.open_seconds, rules.open_seconds) * 2)
            return _open(health, error, now, longer)
        return Health()
    recent = (health.recent + ("f" if failed else "s"))[-rules.window :]
    consecutive = health.consecutive_failures + 1 if failed else 0
    after = replace(health, recent=recent, consecutive_failures=consecutive)
    if failed:
        after = replace(after, last_error=error)
        if consecutive >= rules.consecutive_failures or _rate_tripped(recent, rules):
            return _open(after, error, now, rules.open_seconds)
    return after


def _rate_tripped(recent: str, rules: BreakerRules) -> bool:
    if len(recent) < rules.min_calls:
        return False
    return recent.count("f") / len(recent) >= rules.failure_rate


def _open(health: Health, error: str | None, now: datetime, seconds: float) -> Health:
    return Health(
        state=BreakerState.OPEN,
        consecutive_failures=health.consecutive_failures,
        recent="",
        opened_at=now,
        retry_at=now + timedelta(seconds=seconds),
        open_seconds=seconds,
        last_error=error,
    )
