"""The outbox's events record the state each row really had, whatever the caller expected."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, select

from outreach.actions.messages import plan_message
from outreach.clock import SimulatedClock
from outreach.db import outbox
from outreach.db.engine import session_factory
from outreach.db.models import MessageEvent
from outreach.db.outbox import Transition
from outreach.vocabulary import MessageState
from tests.factories import add_debtor

LEASE = timedelta(minutes=5)


def _events(engine: Engine, message_id: int) -> list[tuple[str | None, str, str]]:
    with session_factory(engine)() as session:
        rows = session.execute(
            select(MessageEvent.from_state, MessageEvent.to_state, MessageEvent.cause)
            .where(MessageEvent.message_id == message_id)
            .order_by(MessageEvent.id)
        )
        return [(a, b, c) for a, b, c in rows]


def _claimed_message(engine: Engine, clock: SimulatedClock, worker: str) -> int:
    factory = session_factory(engine)
    debtor_id, account_id = add_debtor(factory, clock.now())
    with factory.begin() as session:
        message_id = plan_message(
            session,
            clock.now(),
            debtor_id=debtor_id,
            account_id=account_id,
            channel="sms",
            kind="collection",
            template="sms/reminder",
            step_id="s",
            due_at=clock.now(),
            cause="test",
        )
    with factory.begin() as session:
        assert outbox.claim(session, worker, clock.now(), 10, LEASE) == [message_id]
    return message_id


def test_a_message_reaped_to_unknown_then_learned_sent_reads_unknown_to_sent(
    engine: Engine, clock: SimulatedClock
) -> None:
    factory = session_factory(engine)
    message_id = _claimed_message(engine, clock, "slow")
    with factory.begin() as session:
        sending = Transition(message_id, MessageState.CLAIMED, MessageState.SENDING, "slow")
        assert outbox.apply(
            session, [sending], clock.now(), only_from=["claimed"], lease_owner="slow"
        )
    clock.advance(LEASE + timedelta(seconds=1))
    with factory.begin() as session:
        assert outbox.reap_expired(session, clock.now()) == (0, 1)
    # The slow worker's provider call returns at last: it expects the row still `sending`.
    clock.advance(timedelta(seconds=1))
    with factory.begin() as session:
        sent = Transition(
            message_id,
            MessageState.SENDING,
            MessageState.SENT,
            "slow",
            values={"provider_id": "SM1", "lease_owner": None},
        )
        [done] = outbox.apply(
            session,
            [sent],
            clock.now(),
            only_from=(MessageState.SENDING, MessageState.UNKNOWN),
            lease_owner="slow",
        )
    assert done.from_state == MessageState.UNKNOWN
    assert _events(engine, message_id)[-3:] == [
        ("claimed", "sending", "slow"),
        ("sending", "unknown", "reaper"),
        ("unknown", "sent", "slow"),
    ]


def test_a_transition_without_an_expected_state_records_the_real_one(
    engine: Engine, clock: SimulatedClock
) -> None:
    factory = session_factory(engine)
    message_id = _claimed_message(engine, clock, "w1")
    with factory.begin() as session:
        cancel = Transition(message_id, None, MessageState.CANCELLED, "agent:alice")
        outbox.apply(session, [cancel], clock.now(), only_from=("planned", "claimed"))
        # A row in none of the allowed states is left alone and gets no event.
        late = Transition(message_id, None, MessageState.SKIPPED, "agent:alice")
        assert outbox.apply(session, [late], clock.now(), only_from=("planned",)) == []
    assert _events(engine, message_id)[-1] == ("claimed", "cancelled", "agent:alice")
    assert len(_events(engine, message_id)) == 3
