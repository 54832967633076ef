"""The fuzz suite's set-up: the served app on a real database (SQLite, or PostgreSQL with
OUTREACH_TEST_DATABASE_URL) with a little of everything in it, so generated ids and names
reach real rows; an admin's API token and a signed-in console session; and the size.

Size (tests.fuzz.size): 10 examples per route and form in CI, which keeps the whole suite
near 30-60 s on two cores; OUTREACH_FUZZ_EXAMPLES for a long local run."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from starlette.types import Message, Receive, Scope, Send

from outreach.actions.casework import create_task
from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.engine import make_engine, upgrade
from outreach.db.models import InboundMessage
from outreach.pipeline.planner import sync_campaigns
from outreach.runtime import Runtime
from tests.conftest import CONFIG_DIR, PG_URL_ENV, reset_postgres
from tests.console_helpers import add_messages, add_user, make_app, sign_in, token_for
from tests.factories import add_debtor
from tests.fuzz.size import examples
from tests.unknowns_helpers import add_unknown

EXAMPLES = examples(ci=10)

# Every answer the fuzzed app gave this run, by status: the summary line's counts.
STATUSES: Counter[int] = Counter()


class Tallied:
    """The app as an ASGI callable that counts each answer's status in STATUSES."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def tally(message: Message) -> None:
            if message["type"] == "http.response.start":
                STATUSES[message["status"]] += 1
            await send(message)

        await self.app(scope, receive, tally)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if STATUSES:
        total, errors = sum(STATUSES.values()), sum(n for s, n in STATUSES.items() if s >= 500)
        terminalreporter.write_line(
            f"fuzz: {total} requests, {errors} answered 5xx ({EXAMPLES} examples a test; "
            f"by status {dict(sorted(STATUSES.items()))})"
        )


# Every generated request is a real request on a real database: no deadline (a slow first
# request is not a failure), and one app shared by every example on purpose.
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


@dataclass(frozen=True)
class Seeded:
    """The app and what is in its database: two debtors, their accounts, contact points,
    log rows (one of them an unknown send), a reply waiting in the inbox with its task."""

    runtime: Runtime
    app: Tallied
    token: str  # an admin's API token
    debtors: tuple[int, ...]
    accounts: tuple[int, ...]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """One app and database for a whole module: a route's examples, and the routes after
    it, meet what the ones before left (users added, holds set, campaigns paused)."""
    tmp = tmp_path_factory.mktemp("fuzz")
    url = os.environ.get(PG_URL_ENV)
    if url:
        reset_postgres(url)
    else:
        url = f"sqlite:///{tmp / 'fuzz.db'}"
    config = Config(CONFIG_DIR).relocate(tmp)
    config.secrets.database_url = url
    engine = make_engine(url)
    upgrade(engine)
    clock = SimulatedClock(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    runtime, app = make_app(config, engine, clock)
    now = clock.now()
    with runtime.factory.begin() as session:
        sync_campaigns(session, config.campaigns, now)
    admin = add_user(runtime, "admin1", "admin")
    add_user(runtime, "agent1", "agent")
    pairs = [add_debtor(runtime.factory, now), add_debtor(runtime.factory, now, first="Ana")]
    for debtor, account in pairs:
        add_messages(runtime, debtor, account, [{}, {"state": "blocked", "rules": ["F7"]}])
        add_unknown(runtime.factory, now, debtor, account)
    with runtime.factory.begin() as session:
        reply = InboundMessage(
            channel="sms",
            from_address="+12125550143",
            body="call me tomorrow",
            debtor_id=pairs[0][0],
            intent="callback",
            needs_agent=True,
            received_at=now,
        )
        session.add(reply)
        session.flush()
        create_task(
            session,
            now,
            "test",
            kind="callback",
            summary="call back",
            debtor_id=pairs[0][0],
            inbound_id=reply.id,
        )
    yield Seeded(
        runtime=runtime,
        app=Tallied(app),
        token=token_for(runtime, admin),
        debtors=tuple(d for d, _ in pairs),
        accounts=tuple(a for _, a in pairs),
    )
    engine.dispose()


@pytest.fixture(scope="module")
def console(seeded: Seeded) -> Iterator[tuple[TestClient, str]]:
    """A browser signed in to the console as the admin: the client and its CSRF token."""
    with TestClient(seeded.app) as client:
        yield client, sign_in(client, "admin1")
