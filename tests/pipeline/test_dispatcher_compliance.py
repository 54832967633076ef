"""The compliance engine in the real pipeline: content checks block after rendering (never
sent), SMS punctuation is normalized before sending, F3 / F8-history / promises defer, and the
snapshot loader feeds calls, promises, stated times and consent to the rules."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from outreach.actions.casework import record_call
from outreach.actions.holds import set_hold
from outreach.actions.messages import plan_message
from outreach.actions.money import record_promise
from outreach.actions.stated_times import add_inconvenient_time
from outreach.clock import SimulatedClock
from outreach.compliance.sms import sms_segments
from outreach.config.loader import Config
from outreach.db.models import Account, Debtor, Message
from outreach.pipeline.snapshot import BatchContext, load_batch
from outreach.render.environment import PACKAGE_TEMPLATES, Renderer
from outreach.vocabulary import MessageState
from tests.factories import add_debtor
from tests.pipeline_harness import Pipeline, running_pipeline

PHILADELPHIA = {
    "line1": "1 Penn Sq",
    "line2": "",
    "city": "Philadelphia",
    "state": "PA",
    "zip": "19107",
}
SEATTLE = {"line1": "400 Pine St", "line2": "", "city": "Seattle", "state": "WA", "zip": "98101"}
PHONE = "+12155550143"
BASE = '{% extends "sms/_base.txt" %}\n'


@asynccontextmanager
async def pipeline(
    config: Config, engine: Engine, clock: SimulatedClock, tmp_path: Path, **templates: str
) -> AsyncIterator[Pipeline]:
    """The real pipeline, with `templates` (name -> source) overriding shipped ones."""
    overrides = tmp_path / "templates"
    for name, source in templates.items():
        path = overrides / f"{name}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    async with running_pipeline(config, engine, clock) as p:
        p.runtime.renderer = Renderer([overrides, PACKAGE_TEMPLATES])
        yield p


def debtor(
    p: Pipeline, address: dict[str, str] = PHILADELPHIA, **kwargs: object
) -> tuple[int, int]:
    return add_debtor(
        p.runtime.factory,
        p.clock.now() - timedelta(days=30),
        phones=[(PHONE, "mobile")],
        emails=[],
        address=address,
        **kwargs,  # type: ignore[arg-type]
    )


def plan_sms(p: Pipeline, debtor_id: int, account_id: int, template: str = "sms/reminder") -> int:
    with p.runtime.factory.begin() as session:
        return plan_message(
            session,
            p.clock.now(),
            debtor_id=debtor_id,
            account_id=account_id,
            channel="sms",
            template=template,
            kind="collection",
            step_id=f"test-{template}",
            due_at=p.clock.now(),
            cause="test",
        )


def message(p: Pipeline, message_id: int) -> Message:
    with p.runtime.factory() as session:
        found = session.get(Message, message_id)
        assert found is not None
        return found


async def test_sms_without_opt_out_notice_is_blocked_never_sent(
    config: Config, engine: Engine, clock: SimulatedClock, tmp_path: Path
) -> None:
    no_stop = "{{ agency.name }}: hello {{ debtor.first_name }}. {{ mini_miranda() }}"
    async with pipeline(config, engine, clock, tmp_path, **{"sms/reminder": no_stop}) as p:
        debtor_id, account_id = debtor(p)
        message_id = plan_sms(p, debtor_id, account_id)
        await p.dispatcher().run_until_idle()
        sent = message(p, message_id)
        assert sent.state == MessageState.BLOCKED
        assert sent.decision is not None and sent.decision["rules"] == ["F11"]
        assert "opt out" in sent.decision["reasons"][0]
        assert p.sandbox.twilio.requests == []
        assert ("claimed", "blocked") in p.events(message_id)


async def test_typographic_punctuation_is_sent_as_gsm7(
    config: Config, engine: Engine, clock: SimulatedClock, tmp_path: Path
) -> None:
    curly = BASE + "{% block body %}We\u2019re here \u2013 \u201creply\u201d\u2026{% endblock %}"
    async with pipeline(config, engine, clock, tmp_path, **{"sms/reminder": curly}) as p:
        debtor_id, account_id = debtor(p)
        message_id = plan_sms(p, debtor_id, account_id)
        await p.dispatcher().run_until_idle()
        sent = message(p, message_id)
        assert sent.state == MessageState.SENT
        body = p.sandbox.twilio.requests[0]["form"]["Body"]
        assert 'We\'re here - "reply"...' in body
        assert sent.body == body
        assert sent.decision is not None
        assert (sent.decision["encoding"], sent.decision["segments"]) == (
            "GSM-7",
            sms_segments(body),
        )


async def test_time_barred_account_blocks_suit_templates_and_suit_wording(
    config: Config, engine: Engine, clock: SimulatedClock, tmp_path: Path
) -> None:
    declared = (
        "{#- meta: {threatens_suit: true} -#}\n" + BASE + "{% block body %}Pay.{% endblock %}"
    )
    worded = BASE + "{% block body %}Pay or we may take legal action.{% endblock %}"
    templates = {"sms/declared": declared, "sms/worded": worded}
    async with pipeline(config, engine, clock, tmp_path, **templates) as p:
        barred = debtor(p, time_barred=True)
        current = debtor(p, first="Ann")
        ids = [
            plan_sms(p, *barred, template="sms/declared"),
            plan_sms(p, *barred, template="sms/worded"),
            plan_sms(p, *current, template="sms/worded"),
        ]
        await p.dispatcher().run_until_idle()
        declared_msg, worded_msg, current_msg = (message(p, i) for i in ids)
        assert declared_msg.state == worded_msg.state == MessageState.BLOCKED
        assert declared_msg.decision and declared_msg.decision["rules"] == ["F18"]
        assert declared_msg.body is None  # blocked before rendering
        assert worded_msg.decision and worded_msg.decision["rules"] == ["F18"]
        assert "'legal action'" in worded_msg.decision["reasons"][0]
        assert current_msg.state == MessageState.SENT  # not time-barred: wording is allowed


async def test_stated_inconvenient_time_defers_through_the_pipeline(
    config: Config, engine: Engine, clock: SimulatedClock, tmp_path: Path
) -> None:
    async with pipeline(config, engine, clock, tmp_path) as p:
        debtor_id, account_id = debtor(p)
        with p.runtime.factory.begin() as session:
            row = session.get(Debtor, debtor_id)
            assert row is not None
            add_inconvenient_time(
                session, clock.now(), "agent:test", row, start="00:00", end="12:00"
            )
        message_id = plan_sms(p, debtor_id, account_id)  # 10:00 in Philadelphia
        await p.dispatcher().run_until_idle()
        deferred = message(p, message_id)
        assert deferred.state == MessageState.DEFERRED
        assert deferred.decision is not None and deferred.decision["rules"] == ["F3"]
        assert deferred.due_at == datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # 12:00 EST

        clock.set(datetime(2026, 12, 1, 16, 59, tzinfo=UTC))
        await p.dispatcher().run_until_idle()
        assert message(p, message_id).state == MessageState.DEFERRED
        clock.set(datetime(2026, 12, 1, 17, 0, tzinfo=UTC))
        await p.dispatcher().run_until_idle()
        assert message(p, message_id).state == MessageState.SENT


async def test_recorded_calls_count_toward_the_washington_weekly_cap(
    config: Config, engine: Engine, clock: SimulatedClock, tmp_path: Path
) -> None:
    clock.set(datetime(2026, 12, 1, 20, 0, tzinfo=UTC))  # 12:00 in Seattle
    async with pipeline(config, engine, clock, tmp_path) as p:
        debtor_id, account_id = debtor(p, SEATTLE)
        with p.runtime.factory.begin() as session:
            for days in (5, 3, 1):
                record_call(
                    session,
                    clock.now(),
                    "agent:test",
                    debtor_id=debtor_id,
                    account_id=account_id,
                    at=clock.now() - timedelta(days=days),
                    outcome="attempt",
                )
        message_id = plan_sms(p, debtor_id, account_id)
        await p.dispatcher().run_until_idle()
        deferred = message(p, message_id)
        assert deferred.state == MessageState.DEFERRED
        assert deferred.decision is not None and deferred.decision["rules"] == ["WA"]
        assert deferred.due_at == clock.now() + timedelta(days=2)  # the oldest call ages out


async def test_an_open_promise_pauses_collection_until_the_day_after(
    config: Config, engine: Engine, clock: SimulatedClock, tmp_path: Path
) -> None:
    async with pipeline(config, engine, clock, tmp_path) as p:
        debtor_id, account_id = debtor(p)
        with p.runtime.factory.begin() as session:
            account = session.get(Account, account_id)
            assert account is not None
            record_promise(
                session,
                clock.now(),
                "agent:test",
                account=account,
                amount=Decimal("50"),
                due_on=date(2026, 12, 3),
                zones=("America/New_York",),
            )
        message_id = plan_sms(p, debtor_id, account_id)
        await p.dispatcher().run_until_idle()
        deferred = message(p, message_id)
        assert deferred.state == MessageState.DEFERRED
        assert deferred.decision is not None
        assert deferred.decision["rules"] == ["promise", "F1"]
        assert deferred.due_at == datetime(2026, 12, 4, 13, 0, tzinfo=UTC)  # 08:00 EST


def test_snapshot_loads_calls_promises_stated_times_and_consent(
    engine: Engine, clock: SimulatedClock
) -> None:
    from outreach.db.engine import session_factory

    factory = session_factory(engine)
    now = clock.now()
    debtor_id, account_id = add_debtor(
        factory, now, address=PHILADELPHIA, phones=[(PHONE, "mobile")]
    )
    with factory.begin() as session:
        row = session.get(Debtor, debtor_id)
        account = session.get(Account, account_id)
        assert row is not None and account is not None
        add_inconvenient_time(
            session, now, "agent:t", row, start="09:00", end="17:00", days=["mon"], channel="sms"
        )
        record_call(
            session,
            now,
            "agent:t",
            debtor_id=debtor_id,
            account_id=account_id,
            at=now - timedelta(days=1),
            outcome="conversation",
        )
        record_promise(
            session,
            now,
            "agent:t",
            account=account,
            amount=Decimal("10"),
            due_on=date(2026, 12, 5),
            zones=("America/New_York",),
        )
        ids = []
        for kind in ("collection", "reply", "opt_out_confirmation"):
            ids.append(
                plan_message(
                    session,
                    now,
                    debtor_id=debtor_id,
                    account_id=account_id,
                    channel="sms",
                    template="sms/reminder",
                    kind=kind,
                    step_id=f"s-{kind}",
                    due_at=now,
                    cause="test",
                )
            )
        for m in session.scalars(select(Message).where(Message.id.in_(ids))):
            m.state, m.sent_at = MessageState.SENT, now - timedelta(hours=1)
    with factory() as session:
        batch = load_batch(session, ids, now, 30)
        snap = batch.debtor_snapshot(debtor_id)
        account_snap = batch.account_snapshot(account_id, debtor_id)
    history = batch.history[debtor_id]
    assert [(c.channel, c.kind) for c in history] == [("call", "conversation"), ("sms", "attempt")]
    assert account_snap.promise_due_on == date(2026, 12, 5)
    (stated,) = snap.inconvenient_times
    assert (stated.start.hour, stated.end.hour, stated.days, stated.channel) == (
        9,
        17,
        frozenset({0}),
        "sms",
    )
    assert PHONE in snap.consented


async def test_a_hold_placed_while_the_batch_renders_is_honoured(
    config: Config,
    engine: Engine,
    clock: SimulatedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The batch is rendered outside the write transaction; a cease that arrives meanwhile
    is seen when the batch is read again under the lock, and the message is blocked."""
    async with pipeline(config, engine, clock, tmp_path) as p:
        changed_id, changed_account = add_debtor(
            p.runtime.factory,
            p.clock.now() - timedelta(days=30),
            phones=[("+12155550199", "mobile")],
            emails=[],
            address=PHILADELPHIA,
        )
        calm_id, calm_account = debtor(p)
        changed = plan_sms(p, changed_id, changed_account)
        calm = plan_sms(p, calm_id, calm_account)
        dispatcher = p.dispatcher()
        renders: list[str] = []
        real_render = p.runtime.renderer.render
        monkeypatch.setattr(
            p.runtime.renderer,
            "render",
            lambda name, context: renders.append(name) or real_render(name, context),
        )
        real_load = dispatcher._load
        loads = 0

        def load_then_cease(session: Session, ids: list[int], now: datetime) -> BatchContext:
            nonlocal loads
            batch = real_load(session, ids, now)
            loads += 1
            if loads == 1:  # the read before rendering: the debtor asks us to stop meanwhile
                with p.runtime.factory.begin() as other:
                    set_hold(other, now, "test", debtor_id=changed_id, kind="cease")
            return batch

        monkeypatch.setattr(dispatcher, "_load", load_then_cease)
        await dispatcher.run_until_idle()
        assert message(p, changed).state == MessageState.BLOCKED
        assert message(p, calm).state == MessageState.SENT
        assert [r["form"]["To"] for r in p.sandbox.twilio.requests] == [PHONE]
        # The unchanged debtor's message was rendered once; the changed one checked again.
        assert len(renders) == 2


def test_every_deliverable_address_on_file_adds_its_zones(
    engine: Engine, clock: SimulatedClock
) -> None:
    """A debtor with a Philadelphia address and a newer Los Angeles one may be in either
    (F2); an address mail came back from is not a place they are."""
    from outreach.db.engine import session_factory
    from outreach.db.models import ContactPoint
    from outreach.pipeline.snapshot import debtor_zones, load_debtor

    factory = session_factory(engine)
    now = clock.now()
    debtor_id, _ = add_debtor(factory, now, address=PHILADELPHIA, phones=[])
    los_angeles = {"line1": "200 N Spring St", "city": "Los Angeles", "state": "CA", "zip": "90012"}
    honolulu = {"line1": "1 Aloha Tower", "city": "Honolulu", "state": "HI", "zip": "96813"}
    with factory.begin() as session:
        for place, returned in ((los_angeles, None), (honolulu, now)):
            session.add(
                ContactPoint(
                    debtor_id=debtor_id,
                    kind="address",
                    value=place["line1"],
                    address=place,
                    source="test",
                    created_at=now,
                    undeliverable_at=returned,
                )
            )
    with factory() as session:
        batch = load_debtor(session, debtor_id, now, 30)
        snapshot = batch.debtor_snapshot(debtor_id)
        assert (snapshot.state, snapshot.zip, snapshot.other_zips) == ("PA", "19107", ("90012",))
        zones = ("America/Los_Angeles", "America/New_York")
        assert batch.zones(debtor_id) == zones
        assert debtor_zones(session, debtor_id) == zones
