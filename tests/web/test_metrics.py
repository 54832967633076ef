"""/metrics: the process's counters and, read from the database at scrape time, the due queue,
the log by state, unknowns, circuit breakers and worker heartbeats; the same registry served
by `start_metrics_server` for `outreach worker --metrics-port`."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import httpx
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import sessionmaker

from outreach.clock import SimulatedClock
from outreach.db.engine import make_engine
from outreach.db.workers import ProviderHealth, Worker
from outreach.metrics import MESSAGES
from outreach.runtime import Runtime
from outreach.web.app import create_app
from outreach.web.metrics import metrics_registry, start_metrics_server
from tests.conftest import free_port
from tests.console_helpers import add_messages
from tests.factories import add_debtor

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
DB_GAUGES = (
    "outreach_queue_depth",
    "outreach_oldest_due_seconds",
    "outreach_messages_by_state",
    "outreach_unknown_messages",
    "outreach_breaker_state",
    "outreach_worker_heartbeat_age_seconds",
)


def samples(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


def seed(runtime: Runtime, now: datetime) -> None:
    """A log with due, not-yet-due, unknown and finished messages; breakers; workers."""
    debtor, account = add_debtor(runtime.factory, now)

    def ago(minutes: int) -> datetime:
        return now - timedelta(minutes=minutes)

    add_messages(
        runtime,
        debtor,
        account,
        [
            {"channel": "sms", "state": "planned", "due_at": ago(10)},  # due, the oldest
            {"channel": "sms", "state": "deferred", "due_at": ago(2)},  # due
            {"channel": "sms", "state": "planned", "due_at": ago(-60)},  # not due yet
            {"channel": "email", "state": "deferred", "due_at": ago(1)},  # due
            {"channel": "email", "state": "unknown", "due_at": ago(30)},
            {"channel": "sms", "state": "unknown", "due_at": ago(30)},
            {"channel": "sms", "state": "unknown", "due_at": ago(30)},
            {"channel": "letter", "state": "sent", "due_at": ago(90)},
            {"channel": "sms", "state": "blocked", "due_at": ago(90)},
        ],
    )
    with runtime.factory.begin() as session:
        for key, channel, state in [
            ("sms:+15005550006", "sms", "open"),
            ("sms:+15005550007", "sms", "half_open"),
            ("email:smtp.example.test:587", "email", "closed"),
        ]:
            session.add(ProviderHealth(key=key, channel=channel, state=state, updated_at=now))
        for worker, state, seconds in [
            ("w1", "running", 12),
            ("w2", "draining", 3),
            ("w3", "stopped", 900),
        ]:
            beat = now - timedelta(seconds=seconds)
            session.add(
                Worker(
                    id=worker,
                    host="h",
                    pid=1,
                    channels="sms,email,letter",
                    state=state,
                    started_at=beat,
                    heartbeat_at=beat,
                )
            )


async def scrape(runtime: Runtime) -> httpx.Response:
    app = create_app(runtime, self_url="http://127.0.0.1:1", run_worker=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get("/metrics")


async def test_metrics_read_the_engine_state_from_the_database(
    runtime: Runtime, clock: SimulatedClock
) -> None:
    seed(runtime, clock.now())
    response = await scrape(runtime)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = samples(response.text)

    depth = {c: value(found, "outreach_queue_depth", channel=c) for c in ("sms", "email", "letter")}
    assert depth == {"sms": 2, "email": 1, "letter": 0}
    oldest = {
        c: value(found, "outreach_oldest_due_seconds", channel=c)
        for c in ("sms", "email", "letter")
    }
    assert oldest == {"sms": 600, "email": 60, "letter": 0}
    assert value(found, "outreach_unknown_messages", channel="sms") == 2
    assert value(found, "outreach_unknown_messages", channel="email") == 1
    assert value(found, "outreach_unknown_messages", channel="letter") == 0

    by_state = {
        dict(labels)["state"]: v
        for (name, labels), v in found.items()
        if name == "outreach_messages_by_state"
    }
    assert {s: n for s, n in by_state.items() if n} == {
        "planned": 2,
        "deferred": 2,
        "unknown": 3,
        "sent": 1,
        "blocked": 1,
    }
    assert by_state["claimed"] == 0 and by_state["delivered"] == 0  # every state, always

    breaker = "outreach_breaker_state"
    assert value(found, breaker, provider="sms:+15005550006", channel="sms") == 2
    assert value(found, breaker, provider="sms:+15005550007", channel="sms") == 1
    assert value(found, breaker, provider="email:smtp.example.test:587", channel="email") == 0

    ages = {
        dict(labels)["worker"]: v
        for (name, labels), v in found.items()
        if name == "outreach_worker_heartbeat_age_seconds"
    }
    assert ages == {"w1": 12, "w2": 3}  # a stopped worker is not reported


async def test_metrics_include_the_counters_the_engine_increments(runtime: Runtime) -> None:
    labels = {"channel": "letter", "state": "sent", "rule": ""}
    before = value(samples((await scrape(runtime)).text), "outreach_messages_total", **labels)
    MESSAGES.labels(**labels).inc()
    text = (await scrape(runtime)).text
    assert value(samples(text), "outreach_messages_total", **labels) == (before or 0) + 1
    assert "# TYPE outreach_provider_seconds histogram" in text
    assert "process_cpu_seconds_total" in text  # prometheus_client's process collector


async def test_every_app_in_a_process_serves_its_own_registry(runtime: Runtime) -> None:
    """Apps are built many times in one process (tests, serve + worker): no duplicate
    registration error, and each scrape reads its database."""
    first, second = await scrape(runtime), await scrape(runtime)
    for response in (first, second):
        assert response.status_code == 200
        names = {f.name for f in text_string_to_metric_families(response.text)}
        assert set(DB_GAUGES) - {"outreach_breaker_state"} <= names


def test_the_worker_serves_the_same_registry_over_http(
    runtime: Runtime, clock: SimulatedClock
) -> None:
    seed(runtime, clock.now())
    port = free_port()
    server, thread = start_metrics_server(port, runtime.factory, clock=clock, addr="127.0.0.1")
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert response.status_code == 200
    found = samples(response.text)
    assert value(found, "outreach_queue_depth", channel="sms") == 2
    assert value(found, "outreach_worker_heartbeat_age_seconds", worker="w1") == 12
    assert "# TYPE outreach_messages_total counter" in response.text


def test_a_database_that_does_not_answer_leaves_out_only_its_gauges(
    clock: SimulatedClock, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")
    registry = metrics_registry(sessionmaker(engine), clock)
    with caplog.at_level(logging.WARNING, logger="outreach.web.metrics"):
        text = generate_latest(registry).decode()
    engine.dispose()
    names = {f.name for f in text_string_to_metric_families(text)}
    assert not names & set(DB_GAUGES)
    assert "outreach_messages" in names  # the process metrics still come through
    assert any("did not answer: OperationalError" in m for m in caplog.messages)
