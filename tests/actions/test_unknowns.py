"""Settling an unknown send by hand: sent keeps its send time and drops the stale error; not
sent stops counting against caps; requeue plans it through compliance again; anything not
unknown is refused, and every change is audited with its note."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from outreach.actions.audit import ActionError
from outreach.actions.unknowns import requeue_unknown, resolve_unknown
from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.casework import AuditEvent
from outreach.db.models import ContactPoint, Hold, Message, MessageEvent
from outreach.queries.next_contact import next_contacts
from outreach.vocabulary import MessageState
from tests.actions.conftest import audit_events
from tests.factories import add_debtor
from tests.pipeline_harness import running_pipeline
from tests.unknowns_helpers import add_unknown

ALICE = "agent:alice"


def _events(factory: sessionmaker[Session], message_id: int) -> list[tuple[object, ...]]:
    with factory() as session:
        rows = session.execute(
            select(MessageEvent.from_state, MessageEvent.to_state, MessageEvent.cause)
            .where(MessageEvent.message_id == message_id)
            .order_by(MessageEvent.id)
        )
        return [tuple(r) for r in rows]


def test_resolved_as_sent_keeps_the_send_time_and_clears_the_error(
    factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    handed_over = clock.now() - timedelta(hours=2)
    debtor, account = add_debtor(factory, handed_over)
    message_id = add_unknown(factory, handed_over, debtor, account)
    with factory.begin() as session:
        message = session.get_one(Message, message_id)
        resolve_unknown(session, clock.now(), ALICE, message, sent=True, note="carrier log")
    with factory() as session:
        m = session.get_one(Message, message_id)
        detail = session.scalars(select(AuditEvent.detail)).one()
    assert (m.state, m.sent_at, m.error_code, m.error_message) == ("sent", handed_over, None, None)
    assert _events(factory, message_id)[-1] == ("unknown", "sent", ALICE)
    assert audit_events(factory, debtor) == [(ALICE, "message.resolved_sent")]
    assert detail == {"note": "carrier log"}


def test_resolved_as_not_sent_no_longer_counts_against_caps(
    factory: sessionmaker[Session], clock: SimulatedClock, config: Config
) -> None:
    """electronic-daily allows one SMS or email a day: an unknown SMS holds the email back,
    until a person says it never went out."""
    debtor, account = add_debtor(factory, clock.now())
    message_id = add_unknown(factory, clock.now() - timedelta(hours=1), debtor, account)

    def email_verdict() -> tuple[str, tuple[str, ...]]:
        with factory() as session:
            answers = next_contacts(session, debtor, config.policy, clock.now())
        email = next(a for a in answers if a.channel == "email")
        return email.verdict, email.rules

    assert email_verdict() == ("defer", ("F10",))
    with factory.begin() as session:
        message = session.get_one(Message, message_id)
        resolve_unknown(session, clock.now(), ALICE, message, sent=False)
    with factory() as session:
        m = session.get_one(Message, message_id)
    assert (m.state, m.error_code, m.sent_at) == ("failed", "not_sent", None)
    assert m.error_message == "not sent (resolved by agent:alice)"
    assert email_verdict() == ("allow", ())
    assert audit_events(factory, debtor) == [(ALICE, "message.resolved_not_sent")]


def test_only_an_unknown_message_can_be_settled(
    factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    debtor, account = add_debtor(factory, clock.now())
    message_id = add_unknown(factory, clock.now(), debtor, account)
    with factory.begin() as session:
        resolve_unknown(
            session, clock.now(), ALICE, session.get_one(Message, message_id), sent=True
        )
    for settle in (
        lambda s, m: resolve_unknown(s, clock.now(), ALICE, m, sent=False),
        lambda s, m: requeue_unknown(s, clock.now(), ALICE, m),
    ):
        with factory.begin() as session, pytest.raises(ActionError, match="is sent, not unknown"):
            settle(session, session.get_one(Message, message_id))
    with factory() as session:
        assert session.get_one(Message, message_id).state == "sent"
    assert audit_events(factory, debtor) == [(ALICE, "message.resolved_sent")]


def test_a_message_settled_meanwhile_is_refused_not_overwritten(
    factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    """The row read as unknown, then a status callback settled it before this write."""
    debtor, account = add_debtor(factory, clock.now())
    message_id = add_unknown(factory, clock.now(), debtor, account)
    with factory() as reader:
        stale = reader.get_one(Message, message_id)
        reader.commit()  # SQLite: let the other writer in; `stale` keeps what it read
        with factory.begin() as other:
            other.get_one(Message, message_id).state = MessageState.DELIVERED
        with reader.begin(), pytest.raises(ActionError, match="moved to delivered meanwhile"):
            resolve_unknown(reader, clock.now(), ALICE, stale, sent=False)
    with factory() as session:
        assert session.get_one(Message, message_id).state == "delivered"
        assert session.scalars(select(AuditEvent)).all() == []


async def test_a_requeued_message_goes_through_compliance_before_any_send(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    async with running_pipeline(config, engine, clock) as p:
        factory = p.runtime.factory
        debtor, account = add_debtor(factory, clock.now(), emails=[])
        message_id = add_unknown(factory, clock.now() - timedelta(days=2), debtor, account)
        with factory.begin() as session:
            m = session.get_one(Message, message_id)
            m.provider_id = "SM" + "0" * 32
        with factory.begin() as session:
            m = session.get_one(Message, message_id)
            requeue_unknown(session, clock.now(), ALICE, m, note="Twilio has no record")
        with factory() as session:
            m = session.get_one(Message, message_id)
            last = session.scalars(
                select(MessageEvent.detail)
                .where(MessageEvent.message_id == message_id)
                .order_by(MessageEvent.id.desc())
            ).first()
        assert (m.state, m.due_at, m.attempts) == ("planned", clock.now(), 1)
        assert (m.provider_id, m.error_message, m.lease_owner, m.sent_at) == (
            None,
            None,
            None,
            None,
        )
        assert last is not None and last["previous_provider_id"] == "SM" + "0" * 32
        assert last["note"] == "Twilio has no record"
        # A cease request came in meanwhile: the requeued message must be blocked, not sent.
        with factory.begin() as session:
            session.add(Hold(debtor_id=debtor, kind="cease", source="test", created_at=clock.now()))
        await p.dispatcher().run_until_idle()
        with factory() as session:
            m = session.get_one(Message, message_id)
            phone = session.scalars(select(ContactPoint).where(ContactPoint.kind == "phone")).one()
        assert m.state == "blocked", (m.state, m.error_message)
        assert p.sandbox.twilio.requests == [] and phone.opted_out_at is None
    assert audit_events(factory, debtor) == [(ALICE, "message.requeued")]
