"""Consumer-stated inconvenient times: validated, added, withdrawn."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from outreach.actions.audit import ActionError
from outreach.actions.stated_times import add_inconvenient_time, remove_inconvenient_time
from outreach.clock import SimulatedClock
from outreach.db.models import (
    Debtor,
)
from tests.factories import add_debtor


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
