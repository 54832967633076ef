"""A planned step is sent at most once: overlapping ticks, overlapping planners, restarts,
crashes mid-send (unknown, never resent, counted against caps) and provider retries."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlalchemy import Engine, func, select

from outreach.channels.base import OutboundMessage, SendResult
from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.models import Message
from tests.factories import add_debtor
from tests.pipeline_harness import Pipeline, running_pipeline


def _add_many(p: Pipeline, n: int) -> None:
    for i in range(n):
        add_debtor(
            p.runtime.factory,
            p.clock.now(),
            first=f"Person{i}",
            last="Test",
            phones=[(f"+1212736{i:04d}", "mobile")],
            emails=[(f"p{i}@example.com", "personal")],
        )


class _Hang:
    """Stands for a worker that dies inside the provider call: the call never returns."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.entered = asyncio.Event()

    async def send(self, message: OutboundMessage) -> SendResult:
        self.entered.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        return None


async def _die_during_first_email_send(p: Pipeline) -> None:
    """One debtor; day 1's email is handed to a channel that never returns, then the worker dies."""
    _add_many(p, 1)
    p.plan()
    await p.dispatcher().run_until_idle()
    p.clock.advance(timedelta(days=1, hours=1))
    p.plan()
    hang = _Hang("email")
    task = asyncio.create_task(
        p.dispatcher("doomed", channels={**p.channels, "email": hang}).tick()
    )
    await asyncio.wait_for(hang.entered.wait(), 10)
    task.cancel()  # the worker dies while the provider call is in flight


async def test_overlapping_planner_ticks_plan_each_step_once(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    async with running_pipeline(config, engine, clock) as p:
        _add_many(p, 5)
        clock.advance(timedelta(days=4))  # enrolment happens now; nothing due yet beyond day 0
        await asyncio.gather(*(asyncio.to_thread(p.plan) for _ in range(4)))
        clock.advance(timedelta(days=11))
        await asyncio.gather(*(asyncio.to_thread(p.plan) for _ in range(4)))
        with p.runtime.factory() as session:
            per_step = session.execute(
                select(Message.enrollment_id, Message.step_id, func.count()).group_by(
                    Message.enrollment_id, Message.step_id
                )
            ).all()
        assert len(per_step) == 5 * 5  # five steps due by day 11, for five debtors
        assert {n for *_, n in per_step} == {1}


async def test_overlapping_dispatch_ticks_send_each_message_once(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    async with running_pipeline(config, engine, clock) as p:
        _add_many(p, 12)
        p.plan()
        await p.dispatcher().run_until_idle()  # letters
        clock.advance(timedelta(days=1, hours=1))
        p.plan()  # twelve first-emails due
        workers = [p.dispatcher(f"w{i}", batch_size=3) for i in range(4)]
        await asyncio.gather(*(w.run_until_idle() for w in workers))
        emails = p.sandbox.smtp.messages()
        ids = Counter(m["X-Outreach-Message-Id"] for m in emails)
        assert len(ids) == 12 and set(ids.values()) == {1}
        assert {m.state for m in p.messages() if m.channel == "email"} == {"sent"}


async def test_crash_mid_send_becomes_unknown_is_never_resent_and_counts_against_caps(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    async with running_pipeline(config, engine, clock) as p:
        await _die_during_first_email_send(p)

        email = next(m for m in p.messages() if m.channel == "email")
        assert email.state == "sending"

        # A restarted worker before the lease runs out leaves it alone...
        restarted = p.dispatcher("phoenix")
        await restarted.run_until_idle()
        assert next(m for m in p.messages() if m.channel == "email").state == "sending"
        # ...and after it, marks it unknown, without sending it again.
        clock.advance(timedelta(minutes=6))
        await restarted.run_until_idle()
        email = next(m for m in p.messages() if m.channel == "email")
        assert email.state == "unknown"
        assert p.events(email.id)[-1] == ("sending", "unknown")
        assert p.sandbox.smtp.messages() == []

        await restarted.run_until_idle()
        assert p.sandbox.smtp.messages() == []


async def test_unknown_send_counts_against_the_daily_cap(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    async with running_pipeline(config, engine, clock) as p:
        await _die_during_first_email_send(p)
        clock.advance(timedelta(minutes=10))
        await p.dispatcher("phoenix").run_until_idle()  # reaps: unknown

        email = next(m for m in p.messages() if m.channel == "email")
        assert email.state == "unknown"

        # The day-3 SMS, brought forward to now, would be the second electronic contact
        # within a day: the unknown email counts, so the daily cap defers it.
        clock.advance(timedelta(hours=1))
        with p.runtime.factory.begin() as session:
            session.add(
                Message(
                    enrollment_id=email.enrollment_id,
                    step_id="first-sms",
                    debtor_id=email.debtor_id,
                    account_id=email.account_id,
                    campaign="standard",
                    channel="sms",
                    template="sms/reminder",
                    state="planned",
                    due_at=clock.now(),
                    created_at=clock.now(),
                    updated_at=clock.now(),
                )
            )
        await p.dispatcher("phoenix").run_until_idle()
        sms = next(m for m in p.messages() if m.step_id == "first-sms")
        assert sms.state == "deferred"
        assert "F10" in sms.decision["rules"]
        assert sms.due_at == email.sent_at + timedelta(days=1)
        assert p.sandbox.twilio.requests == []


async def test_crash_after_claim_before_send_is_planned_again_and_sent_once(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    from outreach.db import outbox

    async with running_pipeline(config, engine, clock) as p:
        _add_many(p, 2)
        p.plan()
        with p.runtime.factory.begin() as session:  # a worker claims, then dies
            claimed = outbox.claim(session, "doomed", clock.now(), 10, timedelta(minutes=5))
        assert len(claimed) == 2
        await p.dispatcher("phoenix").run_until_idle()
        assert {m.state for m in p.messages()} == {"claimed"}
        clock.advance(timedelta(minutes=6))
        await p.dispatcher("phoenix").run_until_idle()
        letters = p.messages()
        assert {m.state for m in letters} == {"sent"}
        assert p.events(letters[0].id) == [
            (None, "planned"),
            ("planned", "claimed"),
            ("claimed", "planned"),
            ("planned", "claimed"),
            ("claimed", "ready"),
            ("ready", "sending"),
            ("sending", "sent"),
        ]


async def test_transient_provider_errors_are_retried_later_and_sent_once(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    async with running_pipeline(config, engine, clock) as p:
        _add_many(p, 1)
        p.plan()
        await p.dispatcher().run_until_idle()
        clock.advance(timedelta(days=3, hours=1))
        p.plan()
        # email first (day 1); the SMS is deferred a day by the daily electronic cap
        await p.dispatcher().run_until_idle()
        clock.advance(timedelta(days=1))
        p.sandbox.twilio.fail_next(1, status=503)  # the channel tries once; the engine retries
        await p.dispatcher().run_until_idle()
        sms = next(m for m in p.messages() if m.step_id == "first-sms")
        assert sms.state == "planned" and sms.attempts == 1
        assert sms.due_at > clock.now()
        assert p.sandbox.twilio.requests == []

        clock.set(sms.due_at)
        await p.dispatcher().run_until_idle()
        sms = next(m for m in p.messages() if m.step_id == "first-sms")
        assert sms.state == "sent" and sms.attempts == 2
        assert len(p.sandbox.twilio.requests) == 1


async def test_permanent_provider_error_fails_with_the_code_and_opt_out_is_recorded(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    async with running_pipeline(config, engine, clock) as p:
        add_debtor(p.runtime.factory, clock.now(), phones=[("+15005550010", "mobile")], emails=[])
        p.plan()
        await p.dispatcher().run_until_idle()
        clock.advance(timedelta(days=3))
        p.plan()
        await p.dispatcher().run_until_idle()
        sms = next(m for m in p.messages() if m.step_id == "first-sms")
        assert sms.state == "failed" and sms.error_code == "21610"
        clock.advance(timedelta(days=7))
        p.plan()
        await p.dispatcher().run_until_idle()
        final = next(m for m in p.messages() if m.step_id == "final-sms")
        assert final.state == "blocked" and final.decision["rules"] == ["F7"]
