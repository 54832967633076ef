"""Actions on a debtor's record: each change is written with its audit event, repeated
actions do not duplicate, and promises/payments drive the follow-up message."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from outreach.actions.audit import ActionError
from outreach.actions.casework import record_call
from outreach.actions.contacts import set_opt_out
from outreach.actions.holds import release_holds, set_hold
from outreach.actions.messages import plan_message
from outreach.actions.money import FollowUp, record_payment, record_promise
from outreach.actions.stated_times import add_inconvenient_time, remove_inconvenient_time
from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.casework import AuditEvent, Promise
from outreach.db.engine import session_factory
from outreach.db.models import (
    Account,
    ContactPoint,
    Debtor,
    Hold,
    Message,
    MessageEvent,
    MessageState,
)
from tests.factories import add_debtor
from tests.pipeline_harness import running_pipeline


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


def _audit(factory: sessionmaker[Session], debtor_id: int) -> list[tuple[str, str]]:
    with factory() as session:
        rows = session.execute(
            select(AuditEvent.actor, AuditEvent.action)
            .where(AuditEvent.debtor_id == debtor_id)
            .order_by(AuditEvent.id)
        )
        return [(a, b) for a, b in rows]


def test_hold_set_twice_is_one_hold_and_release_says_why(
    factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    debtor_id, account_id = add_debtor(factory, clock.now())
    with factory.begin() as session:
        first = set_hold(
            session,
            clock.now(),
            "agent:ann",
            debtor_id=debtor_id,
            kind="dispute",
            account_id=account_id,
            reason="says not hers",
        )
        again = set_hold(
            session,
            clock.now(),
            "agent:bob",
            debtor_id=debtor_id,
            kind="dispute",
            account_id=account_id,
        )
        assert again.id == first.id
    clock.advance(timedelta(days=3))
    with factory.begin() as session:
        lifted = release_holds(
            session,
            clock.now(),
            "agent:ann",
            debtor_id=debtor_id,
            kind="dispute",
            account_id=account_id,
            reason="verification letter mailed",
        )
        assert [h.id for h in lifted] == [first.id]
    with factory() as session:
        hold = session.get_one(Hold, first.id)
        assert hold.released_at == clock.now()
        assert hold.release_reason == "verification letter mailed"
    assert _audit(factory, debtor_id) == [
        ("agent:ann", "hold.set"),
        ("agent:ann", "hold.released"),
    ]


def test_unknown_hold_kind_is_refused_and_nothing_written(
    factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    debtor_id, _ = add_debtor(factory, clock.now())
    with pytest.raises(ActionError, match="hold kind"), factory.begin() as session:
        set_hold(session, clock.now(), "agent:ann", debtor_id=debtor_id, kind="vacation")
    assert _audit(factory, debtor_id) == []


def test_opt_out_then_in_records_consent_and_audit(
    factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    debtor_id, _ = add_debtor(factory, clock.now())
    with factory.begin() as session:
        phone = session.scalars(
            select(ContactPoint).where(
                ContactPoint.debtor_id == debtor_id, ContactPoint.kind == "phone"
            )
        ).one()
        assert set_opt_out(session, clock.now(), "debtor:sms", phone, opted_out=True)
        assert not set_opt_out(session, clock.now(), "debtor:sms", phone, opted_out=True)
        assert phone.consent == "revoked" and phone.opted_out_at == clock.now()
        assert set_opt_out(session, clock.now(), "debtor:sms", phone, opted_out=False)
        assert phone.opted_out_at is None and phone.consent == "granted"
    assert _audit(factory, debtor_id) == [
        ("debtor:sms", "contact.opt_out"),
        ("debtor:sms", "contact.opt_in"),
    ]


def test_call_in_the_future_or_with_a_bad_outcome_is_refused(
    factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    debtor_id, account_id = add_debtor(factory, clock.now())
    with factory.begin() as session:
        with pytest.raises(ActionError, match="future"):
            record_call(
                session,
                clock.now(),
                "agent:ann",
                debtor_id=debtor_id,
                account_id=account_id,
                at=clock.now() + timedelta(hours=1),
                outcome="attempt",
            )
        with pytest.raises(ActionError, match="outcome"):
            record_call(
                session,
                clock.now(),
                "agent:ann",
                debtor_id=debtor_id,
                account_id=account_id,
                at=clock.now(),
                outcome="voicemail",
            )
        call = record_call(
            session,
            clock.now(),
            "agent:ann",
            debtor_id=debtor_id,
            account_id=account_id,
            at=clock.now() - timedelta(minutes=5),
            outcome="conversation",
            note="will pay Friday",
        )
        assert call.id is not None
    assert _audit(factory, debtor_id) == [("agent:ann", "call.conversation")]


def test_inconvenient_times_are_validated_added_and_withdrawn(
    factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    debtor_id, _ = add_debtor(factory, clock.now())
    with factory.begin() as session:
        debtor = session.get_one(Debtor, debtor_id)
        with pytest.raises(ActionError, match="start must be HH:MM"):
            add_inconvenient_time(
                session, clock.now(), "agent:ann", debtor, start="9am", end="17:00"
            )
        with pytest.raises(ActionError, match="days must be"):
            add_inconvenient_time(
                session,
                clock.now(),
                "agent:ann",
                debtor,
                start="09:00",
                end="17:00",
                days=["monday"],
            )
        add_inconvenient_time(
            session,
            clock.now(),
            "agent:ann",
            debtor,
            start="09:00",
            end="17:00",
            days=["mon", "tue"],
            channel="sms",
        )
    with factory.begin() as session:
        debtor = session.get_one(Debtor, debtor_id)
        assert [
            (t["start"], t["end"], t["days"], t["channel"]) for t in debtor.inconvenient_times
        ] == [("09:00", "17:00", ["mon", "tue"], "sms")]
        remove_inconvenient_time(session, clock.now(), "agent:ann", debtor, 0)
    with factory() as session:
        assert session.get_one(Debtor, debtor_id).inconvenient_times == []


def test_payment_that_covers_a_promise_keeps_it_and_cancels_the_follow_up(
    factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    debtor_id, account_id = add_debtor(factory, clock.now(), balance="300.00")
    due = clock.now().date() + timedelta(days=10)
    with factory.begin() as session:
        account = session.get_one(Account, account_id)
        with pytest.raises(ActionError, match="past"):
            record_promise(
                session,
                clock.now(),
                "debtor:sms",
                account=account,
                amount=Decimal("50"),
                due_on=date(2020, 1, 1),
            )
        promise = record_promise(
            session,
            clock.now(),
            "debtor:sms",
            account=account,
            amount=Decimal("50"),
            due_on=due,
            followup=FollowUp("sms", "sms/reminder"),
        )
        followup_id = promise.followup_message_id
    assert followup_id is not None
    with factory() as session:
        followup = session.get_one(Message, followup_id)
        assert followup.state == MessageState.PLANNED
        assert followup.kind == "promise_followup" and followup.campaign is None
        assert followup.due_at.date() == due + timedelta(days=1)

    clock.advance(timedelta(days=2))
    with factory.begin() as session:
        account = session.get_one(Account, account_id)
        record_payment(
            session,
            clock.now(),
            "agent:ann",
            account=account,
            amount=Decimal("50.00"),
            paid_at=clock.now(),
        )
    with factory() as session:
        account = session.get_one(Account, account_id)
        assert account.balance == Decimal("250.00") and account.status == "open"
        assert session.get_one(Promise, promise.id).status == "kept"
        assert session.get_one(Message, followup_id).state == MessageState.CANCELLED
        reasons = session.scalars(
            select(MessageEvent.detail).where(MessageEvent.message_id == followup_id)
        ).all()
        assert any("promise kept" in (d or {}).get("reason", "") for d in reasons)
    assert [a for _, a in _audit(factory, debtor_id)] == [
        "promise.recorded",
        "payment.recorded",
        "promise.kept",
    ]


def test_paying_in_full_marks_the_account_paid(
    factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    _, account_id = add_debtor(factory, clock.now(), balance="80.00")
    with factory.begin() as session:
        account = session.get_one(Account, account_id)
        record_payment(
            session,
            clock.now(),
            "agent:ann",
            account=account,
            amount=Decimal("100.00"),
            paid_at=clock.now(),
        )
    with factory() as session:
        account = session.get_one(Account, account_id)
        assert (account.balance, account.status) == (Decimal("0.00"), "paid")


async def test_a_message_planned_outside_any_campaign_is_checked_and_sent(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    """Ad-hoc messages (promise follow-ups) go through the same dispatcher and rules."""
    async with running_pipeline(config, engine, clock) as pipeline:
        factory = pipeline.runtime.factory
        debtor_id, account_id = add_debtor(factory, clock.now())
        with factory.begin() as session:
            message_id = plan_message(
                session,
                clock.now(),
                debtor_id=debtor_id,
                account_id=account_id,
                channel="sms",
                template="sms/reminder",
                kind="promise_followup",
                step_id="promise-1",
                due_at=clock.now(),
                cause="test",
            )
        await pipeline.dispatcher().run_until_idle()
        with factory() as session:
            message = session.get_one(Message, message_id)
            assert message.state == MessageState.SENT, message.error_message
            assert message.to_address == "+12125550143"
        assert len(pipeline.sandbox.twilio.requests) == 1
