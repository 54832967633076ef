"""Many workers on one PostgreSQL: each claims with FOR UPDATE SKIP LOCKED, so every message
is sent exactly once, whatever the interleaving."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from outreach.actions.messages import plan_message
from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.engine import make_engine, upgrade
from outreach.runtime import Runtime
from tests.conftest import CONFIG_DIR, reset_postgres
from tests.factories import add_debtor
from tests.pipeline_harness import running_pipeline

PG_URL = os.environ.get("OUTREACH_TEST_POSTGRES_URL") or os.environ.get(
    "OUTREACH_TEST_DATABASE_URL"
)
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not (PG_URL or "").startswith("postgresql"),
        reason="needs PostgreSQL: set OUTREACH_TEST_POSTGRES_URL",
    ),
]


@pytest.fixture
def pg_config(tmp_path: Path) -> Config:
    assert PG_URL is not None
    reset_postgres(PG_URL)
    engine = make_engine(PG_URL)
    upgrade(engine)
    engine.dispose()
    config = Config(CONFIG_DIR).relocate(tmp_path)
    config.secrets.database_url = PG_URL
    return config


async def test_four_workers_with_their_own_connections_send_each_message_once(
    pg_config: Config, clock: SimulatedClock
) -> None:
    engine = make_engine(pg_config.database_url)
    async with running_pipeline(pg_config, engine, clock) as p:
        for i in range(30):
            add_debtor(
                p.runtime.factory,
                clock.now(),
                first=f"P{i}",
                last="Worker",
                phones=[(f"+1212736{i:04d}", "mobile")],
                emails=[(f"w{i}@example.com", "personal")],
            )
        p.plan()
        await p.dispatcher().run_until_idle()  # day-0 letters
        clock.advance(timedelta(days=1, hours=1))
        p.plan()  # thirty emails due at once

        # Each worker has its own engine (its own connections), as separate processes would.
        workers = []
        for i in range(4):
            runtime = Runtime(pg_config, clock, engine=make_engine(pg_config.database_url))
            dispatcher = runtime.dispatcher(p.channels, worker_id=f"pg{i}")
            dispatcher.settings = type(dispatcher.settings)(batch_size=4)
            workers.append(dispatcher)
        reports = await asyncio.gather(*(w.run_until_idle() for w in workers))

        sent = Counter(m["X-Outreach-Message-Id"] for m in p.sandbox.smtp.messages())
        assert len(sent) == 30 and set(sent.values()) == {1}
        assert sum(r.claimed for r in reports) == 30
        assert sum(1 for r in reports if r.claimed) >= 2  # the work really was shared
        assert {m.state for m in p.messages() if m.channel == "email"} == {"sent"}


async def test_planners_on_separate_connections_plan_each_step_once(
    pg_config: Config, clock: SimulatedClock
) -> None:
    from outreach.pipeline import planner

    engine = make_engine(pg_config.database_url)
    async with running_pipeline(pg_config, engine, clock) as p:
        for i in range(10):
            add_debtor(
                p.runtime.factory,
                clock.now(),
                first=f"Q{i}",
                last="Plan",
                phones=[(f"+1212737{i:04d}", "mobile")],
            )
        factories = [
            Runtime(pg_config, clock, engine=make_engine(pg_config.database_url)).factory
            for _ in range(4)
        ]
        await asyncio.gather(
            *(asyncio.to_thread(planner.tick, f, pg_config.campaigns, clock) for f in factories)
        )
        letters = [m for m in p.messages() if m.step_id == "validation-notice"]
        assert len(letters) == 10


async def test_workers_checking_one_debtor_at_once_never_both_pass_a_cap(
    pg_config: Config, clock: SimulatedClock
) -> None:
    """Six SMS for one debtor fall due together and four workers take one each: the policy's
    one-electronic-message-a-day cap lets exactly one out; the others are deferred."""
    from outreach.vocabulary import MessageState

    engine = make_engine(pg_config.database_url)
    async with running_pipeline(pg_config, engine, clock) as p:
        debtor_id, account_id = add_debtor(p.runtime.factory, clock.now(), emails=[])
        with p.runtime.factory.begin() as session:
            for n in range(6):
                plan_message(
                    session,
                    clock.now(),
                    debtor_id=debtor_id,
                    account_id=account_id,
                    channel="sms",
                    template="sms/reminder",
                    kind="collection",
                    step_id=f"race-{n}",
                    due_at=clock.now(),
                    cause="test",
                )
        workers = []
        for i in range(4):
            runtime = Runtime(pg_config, clock, engine=make_engine(pg_config.database_url))
            dispatcher = runtime.dispatcher(p.channels, worker_id=f"cap{i}")
            dispatcher.settings = type(dispatcher.settings)(batch_size=1)
            workers.append(dispatcher)
        reports = await asyncio.gather(*(w.run_until_idle() for w in workers))

        assert sum(r.claimed for r in reports) == 6
        states = Counter(m.state for m in p.messages())
        assert states == {MessageState.SENT: 1, MessageState.DEFERRED: 5}
        assert len(p.sandbox.twilio.requests) == 1
