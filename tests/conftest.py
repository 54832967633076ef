"""Shared fixtures: a real database per test (SQLite file, or PostgreSQL when
OUTREACH_TEST_DATABASE_URL is set), the shipped config relocated to tmp_path, a clock."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, text

from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.engine import make_engine, upgrade
from outreach.masking import QUIET_LOGGERS, SKIPPED_RUN_LOGGERS
from outreach.runtime import Runtime
from outreach.sandbox.server import running_server
from outreach.sandbox.twilio_api import TwilioSandboxStore, twilio_sandbox_router

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "config"
PG_URL_ENV = "OUTREACH_TEST_DATABASE_URL"
DB_FIXTURES = {"engine", "db_url", "runtime"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the database get the `db` marker: CI runs them again on PostgreSQL."""
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    url = os.environ.get(PG_URL_ENV)
    if not url:
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    reset_postgres(url)
    yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> SimulatedClock:
    # A Tuesday, 15:00 UTC: 10:00 in New York, 07:00 in Los Angeles.
    return SimulatedClock(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> Config:
    config = Config(CONFIG_DIR).relocate(tmp_path)
    config.secrets.database_url = db_url
    # The SMTP catcher on a free port: 2525 may be taken by a sandbox someone runs here.
    sandbox = config.file.sandbox.model_copy(update={"smtp_port": 0})
    config.file = config.file.model_copy(update={"sandbox": sandbox})
    return config


def free_port() -> int:
    """A loopback port nothing listens on (for "connection refused" and fixed-port servers)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def reset_postgres(url: str) -> None:
    """An empty public schema, so each test starts from the migrations."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """For tests that call configure_logging: the root handlers and the levels and filters it
    sets are put back afterwards (pytest's own capture handlers included)."""
    root = logging.getLogger()
    touched = [logging.getLogger(n) for n in (*QUIET_LOGGERS, *SKIPPED_RUN_LOGGERS)]
    saved = (root.handlers[:], root.level, [(lg.level, lg.filters[:]) for lg in touched])
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for lg, (level, filters) in zip(touched, saved[2], strict=True):
        lg.setLevel(level)
        lg.filters[:] = filters


@pytest.fixture
def twilio_store(tmp_path: Path) -> TwilioSandboxStore:
    """The Twilio stand-in's record of what it accepted (and its fault injection)."""
    return TwilioSandboxStore(tmp_path / "sandbox")


@pytest.fixture
async def twilio_url(twilio_store: TwilioSandboxStore) -> AsyncIterator[str]:
    """The Twilio-compatible stand-in on loopback, for the real twilio client."""
    app = FastAPI()
    app.include_router(twilio_sandbox_router(twilio_store))
    async with running_server(app) as url:
        yield url


@pytest.fixture
def runtime(config: Config, engine: Engine, clock: SimulatedClock) -> Runtime:
    """The runtime on the test database and the simulated clock (no scheduler)."""
    return Runtime(config, clock, engine=engine)


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The whole web app in process (no worker, no server), for webhooks and pages."""
    from outreach.web.app import create_app

    app = create_app(runtime, self_url="http://127.0.0.1:1", run_worker=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
