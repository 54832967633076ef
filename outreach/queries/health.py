"""What the database says about the send engine, read when /metrics is scraped: the due queue,
the message log by state, unknown outcomes, circuit breakers and worker heartbeats.

Each figure is one grouped query. The unknowns read `ix_messages_state_id` over their state
only; the due queue and the count by state read the whole message log once (a scan: on
PostgreSQL a parallel one, 0.1 s at 450k messages; the per-channel partial indexes of the claim,
ix_messages_due_<channel>, do not serve a count over all channels);
`provider_health` and `workers` hold a row per provider and per worker, read through
queries.providers (what the console, CLI and API show).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from outreach.clock import as_utc
from outreach.db.models import Message
from outreach.masking import mask_text
from outreach.queries.providers import ProviderView, providers, workers
from outreach.vocabulary import DUE_STATES, Channel, MessageState


@dataclass(frozen=True)
class EngineHealth:
    due: Mapping[str, int]  # channel -> messages due now (planned/deferred, due_at <= now)
    oldest_due_seconds: Mapping[str, float]  # channel -> how long the oldest has waited
    by_state: Mapping[str, int]  # every message state -> count
    unknown: Mapping[str, int]  # channel -> messages whose outcome is unknown
    breakers: tuple[ProviderView, ...]  # by key, without their audit events
    heartbeat_age_seconds: Mapping[str, float]  # worker id -> seconds since its heartbeat


def engine_health(session: Session, now: datetime) -> EngineHealth:
    """Every channel and state is present (0 when none), so a series never disappears."""
    channels = [c.value for c in Channel]
    due = dict.fromkeys(channels, 0)
    oldest = dict.fromkeys(channels, 0.0)
    rows = session.execute(
        select(Message.channel, func.count(), func.min(Message.due_at))
        .where(Message.state.in_(DUE_STATES), Message.due_at <= now)
        .group_by(Message.channel)
    )
    for channel, count, first_due in rows:
        due[channel] = count
        oldest[channel] = max(0.0, (now - as_utc(first_due)).total_seconds())

    by_state = dict.fromkeys([s.value for s in MessageState], 0)
    for state, count in session.execute(
        select(Message.state, func.count()).group_by(Message.state)
    ):
        by_state[state] = count

    unknown = dict.fromkeys(channels, 0)
    for channel, count in session.execute(
        select(Message.channel, func.count())
        .where(Message.state == MessageState.UNKNOWN)
        .group_by(Message.channel)
    ):
        unknown[channel] = count

    breakers = tuple(providers(session, now, events=0))
    heartbeats = {
        w.id: w.heartbeat_age_seconds for w in workers(session, now, live_only=True, limit=None)
    }
    return EngineHealth(
        due=due,
        oldest_due_seconds=oldest,
        by_state=by_state,
        unknown=unknown,
        breakers=breakers,
        heartbeat_age_seconds=heartbeats,
    )


def database_answers(session: Session) -> None:
    """`SELECT 1`: raises what the driver raises when the database does not answer."""
    session.execute(text("SELECT 1"))


def database_error(exc: Exception) -> str:
    """A driver error in one masked line ("OperationalError: connection refused"), without
    the SQL and parameters SQLAlchemy appends."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return mask_text(f"{type(cause).__name__}: {lines[0] if lines else 'no detail'}")
