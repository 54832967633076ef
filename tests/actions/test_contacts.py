"""Opt-outs and opt-ins of contact points, with consent and audit."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from outreach.actions.contacts import set_opt_out
from outreach.clock import SimulatedClock
from outreach.db.models import (
    ContactPoint,
)
from tests.actions.conftest import audit_events
from tests.factories import add_debtor


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
    assert audit_events(factory, debtor_id) == [
        ("debtor:sms", "contact.opt_out"),
        ("debtor:sms", "contact.opt_in"),
    ]
