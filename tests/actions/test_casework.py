"""Calls an agent records: validated before anything is written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from outreach.actions.audit import ActionError
from outreach.actions.casework import record_call
from outreach.clock import SimulatedClock
from tests.actions.conftest import audit_events
from tests.factories import add_debtor


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
    assert audit_events(factory, debtor_id) == [("agent:ann", "call.conversation")]
