"""Provider health in the database: the shared circuit breakers (pure rules in breaker).

Every change of a breaker's state is audited (action `breaker_open`, `breaker_half_open`,
`breaker_closed`) and counted in metrics, so the console and CLI show why a channel paused.
Rows are read FOR UPDATE (SQLite: the BEGIN IMMEDIATE write lock) so two workers never both
start a trial or lose each other's results.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.actions.audit import audit
from outreach.db.engine import insert_ignoring_duplicates
from outreach.db.workers import ProviderHealth
from outreach.metrics import BREAKER_TRANSITIONS
from outreach.pipeline.breaker import BreakerRules, Health, begin_trial, observe, trial_due
from outreach.vocabulary import BreakerState


@dataclass(frozen=True, slots=True)
class Provider:
    """One provider a channel sends through: the breaker's and the pacing's key."""

    key: str  # "sms:+15005550006", "email:smtp.example.com:587", "letter:var/letters"
    channel: str
    per_second: float | None = None  # shared rate limit; None: none


@dataclass(frozen=True, slots=True)
class Result:
    failed: bool
    error: str | None = None


_FIELDS = tuple(Health.__dataclass_fields__)


def _health(row: ProviderHealth) -> Health:
    return Health(**{f: getattr(row, f) for f in _FIELDS} | {"state": BreakerState(row.state)})


def lock(session: Session, provider: Provider, now: datetime) -> ProviderHealth:
    """The provider's row, locked until the transaction ends (a write round locks it once
    for its results and its starts); created (closed) the first time it is used."""
    query = select(ProviderHealth).where(ProviderHealth.key == provider.key).with_for_update()
    row = session.scalars(query).one_or_none()
    if row is not None:
        return row
    session.execute(
        insert_ignoring_duplicates(session, ProviderHealth).values(
            key=provider.key,
            channel=provider.channel,
            state=BreakerState.CLOSED,
            consecutive_failures=0,
            recent="",
            open_seconds=0.0,
            updated_at=now,
        )
    )
    return session.scalars(query).one()


def _store(session: Session, row: ProviderHealth, after: Health, now: datetime, actor: str) -> None:
    before = row.state
    for name, value in asdict(after).items():
        setattr(row, name, value)
    row.updated_at = now
    if after.state != before:
        audit(
            session,
            now,
            actor,
            f"breaker_{after.state}",
            subject=row.key[:64],  # the audit subject column's width
            detail={
                "from": before,
                "last_error": after.last_error,
                "retry_at": (after.retry_at.isoformat() if after.retry_at else None),
            },
        )
        BREAKER_TRANSITIONS.labels(row.key, after.state).inc()


def admit(
    session: Session,
    row: ProviderHealth,
    wanted: int,
    worker: str,
    now: datetime,
    rules: BreakerRules,
) -> int:
    """How many of `wanted` sends may start now through the provider of `row` (locked):
    all while closed, one trial when an open breaker has rested (this worker then owns the
    trial), none otherwise."""
    health = _health(row)
    if health.state is BreakerState.CLOSED:
        return wanted
    if trial_due(health, now):
        _store(session, row, begin_trial(health, worker, now, rules), now, f"worker:{worker}")
        return 1
    return 0


def still_admits(row: ProviderHealth, worker: str) -> bool:
    """For a send admitted in an earlier round that waited for its rate-limit slot: the
    breaker (`row`, locked) is closed, or this worker holds its trial."""
    if row.state == BreakerState.CLOSED:
        return True
    return row.state == BreakerState.HALF_OPEN and row.trial_owner == worker


def report(
    session: Session,
    row: ProviderHealth,
    results: Sequence[Result],
    worker: str,
    now: datetime,
    rules: BreakerRules,
) -> Health:
    """Fold results into the breaker of `row` (locked); returns the state after them."""
    health = _health(row)
    after = health
    for result in results:
        after = observe(after, result.failed, result.error, now, rules)
    if after != health:
        _store(session, row, after, now, f"worker:{worker}")
    return after


def admission(session: Session, keys: Iterable[str], now: datetime) -> dict[str, int | None]:
    """How many messages of each provider the dispatcher may claim now: None (no limit) while
    closed, 1 when a trial may start, 0 while it rests or a trial is under way. Claiming no
    more than the breaker will admit keeps a trial from checking a whole batch for nothing."""
    limits: dict[str, int | None] = dict.fromkeys(keys)
    for row in session.scalars(select(ProviderHealth).where(ProviderHealth.key.in_(list(limits)))):
        if row.state != BreakerState.CLOSED:
            limits[row.key] = 1 if trial_due(_health(row), now) else 0
    return limits
