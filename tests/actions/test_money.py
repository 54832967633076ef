"""Payments keep the promises they cover; paying in full marks the account paid."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

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
