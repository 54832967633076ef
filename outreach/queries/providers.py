"""The send engine's providers and workers as people see them: each provider's circuit breaker
with its recent transitions, and each worker's heartbeat. One read model for
`outreach providers`, GET /api/providers and the console's providers page; /metrics
(queries.health) reads the same two functions.

Error text is masked (a provider's error may quote a number or an address). The breaker's
transitions come from the audit trail (`breaker_open`, `breaker_half_open`, `breaker_closed`,
subject = the provider key), newest first, a few per provider in one windowed query.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from outreach.db.casework import AuditEvent
from outreach.db.workers import ProviderHealth, Worker
from outreach.masking import mask_text
from outreach.pipeline.breaker import Health, trial_due
from outreach.vocabulary import BreakerState

BREAKER_ACTIONS = tuple(f"breaker_{s.value}" for s in BreakerState)
LIVE_WORKER_STATES = ("running", "draining")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True, slots=True)
class BreakerEvent:
    at: datetime
    action: str  # breaker_open | breaker_half_open | breaker_closed
    actor: str  # "worker:<id>": who saw the results that moved it

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "action": self.action, "actor": self.actor}


@dataclass(frozen=True, slots=True)
class ProviderView:
    key: str  # "sms:+15005550006", "email:smtp.example.com:587"
    channel: str
    state: str  # closed | half_open | open
    paused: bool  # takes no message now (resting, or a trial under way)
    consecutive_failures: int
    opened_at: datetime | None
    retry_at: datetime | None  # when the next trial may start (open: rested; half-open: the
    # trial under way is given up); None when closed
    open_seconds: float  # the length of the current rest (doubles after a failed trial)
    trial_owner: str | None  # the worker sending the trial (half-open)
    last_error: str | None  # masked
    updated_at: datetime
    events: tuple[BreakerEvent, ...]  # the last few transitions, newest first

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "channel": self.channel,
            "state": self.state,
            "paused": self.paused,
            "consecutive_failures": self.consecutive_failures,
            "opened_at": _iso(self.opened_at),
            "retry_at": _iso(self.retry_at),
            "open_seconds": self.open_seconds,
            "trial_owner": self.trial_owner,
            "last_error": self.last_error,
            "updated_at": self.updated_at.isoformat(),
            "events": [e.to_dict() for e in self.events],
        }


@dataclass(frozen=True, slots=True)
class WorkerView:
    id: str
    host: str
    pid: int
    channels: tuple[str, ...]
    state: str  # running | draining | stopped | lost
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None
    heartbeat_age_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "host": self.host,
            "pid": self.pid,
            "channels": list(self.channels),
            "state": self.state,
            "started_at": self.started_at.isoformat(),
            "heartbeat_at": self.heartbeat_at.isoformat(),
            "stopped_at": _iso(self.stopped_at),
            "heartbeat_age_seconds": self.heartbeat_age_seconds,
        }


def age_text(seconds: float) -> str:
    """12.4 -> "12s", 3725 -> "1h 2m": a heartbeat's age at a glance (CLI and console)."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m" if hours < 48 else f"{hours // 24}d {hours % 24}h"


def providers(session: Session, now: datetime, *, events: int = 5) -> list[ProviderView]:
    """Every provider a worker has sent through, by key, with its last `events` breaker
    transitions (0: none, and no query of the audit trail: what /metrics asks)."""
    rows = list(session.scalars(select(ProviderHealth).order_by(ProviderHealth.key)))
    recent = _recent_events(session, [r.key for r in rows], events) if rows and events else {}
    views = []
    for row in rows:
        state = BreakerState(row.state)
        health = Health(state=state, retry_at=row.retry_at, trial_expires_at=row.trial_expires_at)
        next_trial = {
            BreakerState.OPEN: row.retry_at,
            BreakerState.HALF_OPEN: row.trial_expires_at,
        }.get(state)
        views.append(
            ProviderView(
                key=row.key,
                channel=row.channel,
                state=state.value,
                paused=state is not BreakerState.CLOSED and not trial_due(health, now),
                consecutive_failures=row.consecutive_failures,
                opened_at=row.opened_at,
                retry_at=next_trial,
                open_seconds=row.open_seconds,
                trial_owner=row.trial_owner,
                last_error=mask_text(row.last_error) if row.last_error else None,
                updated_at=row.updated_at,
                events=tuple(recent.get(row.key, ())),
            )
        )
    return views


def _recent_events(
    session: Session, keys: list[str], per_key: int
) -> dict[str, list[BreakerEvent]]:
    """The newest `per_key` breaker transitions of each key (the (action, at) index)."""
    rank = (
        func.row_number()
        .over(
            partition_by=AuditEvent.subject,
            order_by=(AuditEvent.at.desc(), AuditEvent.id.desc()),
        )
        .label("rank")
    )
    ranked = (
        select(AuditEvent.subject, AuditEvent.at, AuditEvent.action, AuditEvent.actor, rank)
        .where(AuditEvent.action.in_(BREAKER_ACTIONS), AuditEvent.subject.in_(keys))
        .subquery()
    )
    found: dict[str, list[BreakerEvent]] = defaultdict(list)
    for subject, at, action, actor in session.execute(
        select(ranked.c.subject, ranked.c.at, ranked.c.action, ranked.c.actor)
        .where(ranked.c.rank <= per_key)
        .order_by(ranked.c.subject, ranked.c.rank)
    ):
        found[subject].append(BreakerEvent(at, action, actor))
    return found


def workers(
    session: Session, now: datetime, *, live_only: bool = False, limit: int | None = 100
) -> list[WorkerView]:
    """Workers alive (running, draining) first, then the others; the latest heartbeat first
    within each. Stopped and lost rows stay in the table (a worker id per process life), so
    `limit` keeps the list short; `live_only` for /metrics, which wants every live one."""
    live = Worker.state.in_(LIVE_WORKER_STATES)
    query = select(Worker).order_by(case((live, 0), else_=1), Worker.heartbeat_at.desc(), Worker.id)
    if live_only:
        query = query.where(live)
    if limit is not None:
        query = query.limit(limit)
    return [
        WorkerView(
            id=w.id,
            host=w.host,
            pid=w.pid,
            channels=tuple(c for c in w.channels.split(",") if c),
            state=w.state,
            started_at=w.started_at,
            heartbeat_at=w.heartbeat_at,
            stopped_at=w.stopped_at,
            heartbeat_age_seconds=max(0.0, (now - w.heartbeat_at).total_seconds()),
        )
        for w in session.scalars(query)
    ]
