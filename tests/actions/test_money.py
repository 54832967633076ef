"""Payments keep the promises they cover; paying in full marks the account paid."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from outreach.actions.audit import ActionError
from outreach.actions.money import FollowUp, record_payment, record_promise
from outreach.clock import SimulatedClock
from outreach.db.casework import Promise
from outreach.db.models import Account, Message, MessageEvent
from outreach.vocabulary import MessageState
from tests.actions.conftest import audit_events
from tests.factories import add_debtor

NY = "America/New_York"
LA = "America/Los_Angeles"


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
                zones=(NY,),
            )
        promise = record_promise(
            session,
            clock.now(),
            "debtor:sms",
            account=account,
            amount=Decimal("50"),
            due_on=due,
            zones=(NY,),
            followup=FollowUp("sms", "sms/reminder"),
        )
        followup_id = promise.followup_message_id
    assert followup_id is not None
    with factory() as session:
        followup = session.get_one(Message, followup_id)
        assert followup.state == MessageState.PLANNED
        assert followup.kind == "promise_followup" and followup.campaign is None
        # the day after the due date, from New York's midnight (05:00 UTC in winter)
        after = datetime.combine(due + timedelta(days=1), time(0), tzinfo=ZoneInfo(NY))
        assert followup.due_at == after.astimezone(UTC)

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
    assert [a for _, a in audit_events(factory, debtor_id)] == [
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


def test_a_promise_is_dated_on_the_consumers_calendar_not_utcs(
    factory: sessionmaker[Session],
) -> None:
    """At 21:00 in Los Angeles it is already tomorrow in UTC: a promise for "today" is not
    in the past, and its follow-up waits for the day after in every candidate zone."""
    evening = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)  # Dec 1, 21:00 PST; Dec 2, 00:00 EST
    _, account_id = add_debtor(factory, evening, balance="300.00")
    with factory.begin() as session:
        account = session.get_one(Account, account_id)
        with pytest.raises(ActionError, match="past"):  # Dec 1 is over in New York
            record_promise(
                session,
                evening,
                "debtor:sms",
                account=account,
                amount=Decimal("5"),
                due_on=date(2026, 12, 1),
                zones=(NY,),
            )
        promise = record_promise(
            session,
            evening,
            "debtor:sms",
            account=account,
            amount=Decimal("50"),
            due_on=date(2026, 12, 1),
            zones=(LA, NY),
            followup=FollowUp("sms", "sms/reminder"),
        )
        followup_id = promise.followup_message_id
    with factory() as session:
        followup = session.get_one(Message, followup_id)
        assert followup.due_at == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # midnight in LA
