"""Holds: set once, released with a reason, unknown kinds refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from outreach.actions.audit import ActionError
from outreach.actions.holds import release_holds, set_hold
from outreach.clock import SimulatedClock
from outreach.db.models import (
    Hold,
)
from tests.actions.conftest import audit_events
from tests.factories import add_debtor


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
    assert audit_events(factory, debtor_id) == [
        ("agent:ann", "hold.set"),
        ("agent:ann", "hold.released"),
    ]


def test_unknown_hold_kind_is_refused_and_nothing_written(
    factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    debtor_id, _ = add_debtor(factory, clock.now())
    with pytest.raises(ActionError, match="hold kind"), factory.begin() as session:
        set_hold(session, clock.now(), "agent:ann", debtor_id=debtor_id, kind="vacation")
    assert audit_events(factory, debtor_id) == []
