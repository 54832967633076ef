"""A drain (what SIGTERM does): no new claims, in-flight sends get the grace period, the rest
goes back to planned, and a send still in its channel call when time is up is recorded
unknown: counted against caps, never resent, shown to people."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import Engine, select

from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.workers import Worker
from tests.pipeline.test_at_most_once import _add_many, _Hang
from tests.pipeline_harness import running_pipeline


async def test_drain_cuts_off_only_the_send_in_flight_and_releases_the_rest(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    async with running_pipeline(config, engine, clock) as p:
        _add_many(p, 3)
        p.plan()
        await p.dispatcher().run_until_idle()  # day-0 letters
        clock.advance(timedelta(days=1, hours=1))
        p.plan()  # three first emails due
        hang = _Hang("email")
        d = p.dispatcher("draining", channels={**p.channels, "email": hang})
        d.settings = type(d.settings)(concurrency={"email": 1, "sms": 1, "letter": 1})
        d.start()
        await d.fill()
        await asyncio.wait_for(hang.entered.wait(), 10)
        report = await d.drain(grace=0.2)

        emails = [m for m in p.messages() if m.channel == "email"]
        assert (report.cut_off, report.released) == (1, 2)  # two never left the queue
        assert sorted(m.state for m in emails) == ["planned", "planned", "unknown"]
        cut = next(m for m in emails if m.state == "unknown")
        assert cut.error_code == "drain_timeout"
        assert p.events(cut.id)[-2:] == [("ready", "sending"), ("sending", "unknown")]
        assert all(m.lease_owner is None for m in emails if m.state == "planned")
        assert p.sandbox.smtp.messages() == []
        with p.runtime.factory() as session:
            worker = session.get(Worker, "draining")
            assert worker is not None and worker.state == "stopped"
        assert await d.fill() == type(await d.fill())()  # a drained worker claims nothing


async def test_drain_waits_for_sends_that_finish_within_the_grace_period(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    async with running_pipeline(config, engine, clock) as p:
        _add_many(p, 4)
        p.plan()
        await p.dispatcher().run_until_idle()
        clock.advance(timedelta(days=1, hours=1))
        p.plan()
        p.sandbox.smtp.faults.delay_next(4, 0.3)  # slow, but quicker than the grace period
        d = p.dispatcher("patient")
        d.start()
        await d.fill()
        await asyncio.sleep(0.05)
        report = await d.drain(grace=5)
        with p.runtime.factory() as session:
            assert session.scalars(select(Worker.state)).all() == ["stopped"]
        states = sorted(m.state for m in p.messages() if m.channel == "email")
        assert report.cut_off == 0
        assert "unknown" not in states and "sending" not in states
        assert states.count("sent") == len(p.sandbox.smtp.messages())
