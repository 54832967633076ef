"""One Prometheus registry per app (or worker): the process's own metrics (`outreach.metrics`
and prometheus_client's process/platform/gc collectors, all in the default registry) plus a
collector that reads the database at scrape time.

The database collector lives in its own `CollectorRegistry`, never in the default one: a
process may build many apps (tests do), and registering the same collector names twice in one
registry raises. `outreach serve` serves the registry at /metrics; `outreach worker
--metrics-port` serves it with `start_metrics_server` (no web app there).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from wsgiref.simple_server import WSGIServer

from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

import outreach.metrics  # noqa: F401  (registers the engine's counters in the default registry)
from outreach.clock import Clock, SystemClock
from outreach.queries.health import database_error, engine_health
from outreach.vocabulary import BreakerState

log = logging.getLogger(__name__)

# A breaker as a number, so a graph or an alert can compare it (`> 0`: not closed).
BREAKER_VALUES: dict[str, int] = {
    BreakerState.CLOSED: 0,
    BreakerState.HALF_OPEN: 1,
    BreakerState.OPEN: 2,
}


class DatabaseCollector(Collector):
    """The engine's state as the database holds it, read fresh at each scrape. A database
    that does not answer leaves these gauges out of that scrape (logged), so the process
    metrics still come through and `absent()` alerts can fire."""

    def __init__(self, factory: sessionmaker[Session], clock: Clock) -> None:
        self._factory = factory
        self._clock = clock

    def describe(self) -> Iterable[Metric]:
        return []  # registering must not query the database

    def collect(self) -> Iterable[Metric]:
        try:
            with self._factory() as session:
                health = engine_health(session, self._clock.now())
        except SQLAlchemyError as exc:
            log.warning("metrics: the database did not answer: %s", database_error(exc))
            return []
        by_channel = ["channel"]
        depth = GaugeMetricFamily(
            "outreach_queue_depth",
            "Messages due now (planned or deferred, due_at reached), by channel.",
            labels=by_channel,
        )
        oldest = GaugeMetricFamily(
            "outreach_oldest_due_seconds",
            "How long the oldest due message has waited past its due_at (0 when none).",
            labels=by_channel,
        )
        for channel, count in health.due.items():
            depth.add_metric([channel], count)
            oldest.add_metric([channel], health.oldest_due_seconds[channel])
        states = GaugeMetricFamily(
            "outreach_messages_by_state", "Messages in the log, by state.", labels=["state"]
        )
        for state, count in health.by_state.items():
            states.add_metric([state], count)
        unknown = GaugeMetricFamily(
            "outreach_unknown_messages",
            "Messages whose send outcome is unknown (need a person), by channel.",
            labels=by_channel,
        )
        for channel, count in health.unknown.items():
            unknown.add_metric([channel], count)
        breakers = GaugeMetricFamily(
            "outreach_breaker_state",
            "Each provider's circuit breaker: 0 closed, 1 half_open, 2 open.",
            labels=["provider", "channel"],
        )
        for breaker in health.breakers:
            if (value := BREAKER_VALUES.get(breaker.state)) is not None:
                breakers.add_metric([breaker.key, breaker.channel], value)
        heartbeats = GaugeMetricFamily(
            "outreach_worker_heartbeat_age_seconds",
            "Seconds since each worker that has not stopped last renewed its heartbeat.",
            labels=["worker"],
        )
        for worker, age in health.heartbeat_age_seconds.items():
            heartbeats.add_metric([worker], age)
        return [depth, oldest, states, unknown, breakers, heartbeats]


class _ProcessMetrics(Collector):
    """The default registry, passed through: counters the engine increments anywhere in the
    process, and prometheus_client's process, platform and gc collectors."""

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def metrics_registry(factory: sessionmaker[Session], clock: Clock) -> CollectorRegistry:
    """A fresh registry for one app or worker; any number can coexist in a process."""
    registry = CollectorRegistry()
    registry.register(_ProcessMetrics())
    registry.register(DatabaseCollector(factory, clock))
    return registry


def start_metrics_server(
    port: int,
    factory: sessionmaker[Session],
    *,
    clock: Clock | None = None,
    addr: str = "0.0.0.0",
) -> tuple[WSGIServer, threading.Thread]:
    """Serve the registry over HTTP from a daemon thread (`outreach worker --metrics-port`).
    Returns the server so a caller can `shutdown()` it; the thread dies with the process."""
    registry = metrics_registry(factory, clock or SystemClock())
    return start_http_server(port, addr=addr, registry=registry)
