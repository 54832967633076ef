"""/healthz answers without the database; /readyz is 200 only when the database answers and,
where the process runs the scheduler, its jobs have ticked lately; else 503 with a reason."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import Engine

from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.engine import make_engine
from outreach.runtime import Runtime
from outreach.sandbox.server import running_server
from outreach.web.app import create_app
from tests.conftest import free_port


async def get(runtime: Runtime, path: str) -> httpx.Response:
    app = create_app(runtime, self_url="http://127.0.0.1:1", run_worker=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get(path)


@pytest.fixture
def unreachable(config: Config, clock: SimulatedClock) -> Iterator[Runtime]:
    """A runtime whose database refuses connections (nothing listens on the port)."""
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")
    yield Runtime(config, clock, engine=engine)
    engine.dispose()


async def test_healthz_answers_without_asking_the_database(unreachable: Runtime) -> None:
    response = await get(unreachable, "/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_is_ready_when_the_database_answers(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    response = await get(Runtime(config, clock, engine=engine), "/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ready"})


async def test_readyz_is_503_with_the_reason_when_the_database_does_not_answer(
    unreachable: Runtime,
) -> None:
    response = await get(unreachable, "/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["reason"].startswith("the database did not answer SELECT 1: OperationalError")


async def test_readyz_follows_the_scheduler_when_the_process_runs_it(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    """The jobs run once at start-up, then (here) not for an hour: ready after that first
    run, not ready once no run finished within 3 dispatcher intervals."""
    hourly = {"planner_seconds": 3600, "dispatcher_seconds": 3600, "settle_seconds": 3600}
    scheduler = config.file.scheduler.model_copy(update=hourly)
    inbound = config.file.inbound.model_copy(update={"bounce_poll_seconds": 3600})
    sandbox = config.file.sandbox.model_copy(update={"smtp_port": 0})
    config.file = config.file.model_copy(
        update={"scheduler": scheduler, "sandbox": sandbox, "inbound": inbound}
    )
    runtime = Runtime(config, clock, engine=engine)
    port = free_port()
    app = create_app(runtime, self_url=f"http://127.0.0.1:{port}")
    async with running_server(app, port=port) as base_url, httpx.AsyncClient() as client:
        for _ in range(100):
            ready = await client.get(f"{base_url}/readyz")
            if ready.status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
        # Every job runs once at start-up; let the last of those first runs finish.
        jobs = app.state.scheduler.scheduler.get_jobs()
        for _ in range(100):
            if all(job.next_run_time > datetime.now(UTC) for job in jobs):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)

        app.state.scheduler.last_tick_at = time.monotonic() - 3 * 3600 - 1
        stale = await client.get(f"{base_url}/readyz")
        assert stale.status_code == 503
        assert stale.json()["reason"] == "the scheduler finished no job run in the last 10800s"
