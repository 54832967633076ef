"""The debtor page's next contact answers for the address the dispatcher would send to."""

from __future__ import annotations

from sqlalchemy import Engine, select

from outreach.actions.contacts import set_opt_out
from outreach.clock import SimulatedClock
from outreach.compliance.policy import Policy
from outreach.db.engine import session_factory
from outreach.db.models import ContactPoint
from outreach.pipeline.contacts import choose_contact
from outreach.pipeline.snapshot import load_debtor
from outreach.queries.next_contact import next_contacts
from tests.factories import add_debtor


def test_next_contact_is_for_the_point_the_dispatcher_chooses(
    engine: Engine, clock: SimulatedClock
) -> None:
    factory = session_factory(engine)
    debtor_id, _ = add_debtor(
        factory,
        clock.now(),
        phones=[("+12125550101", "home"), ("+12125550102", "mobile")],
        emails=[("jo@work.example", "work"), ("jo@example.com", "personal")],
    )
    policy = Policy()
    with factory.begin() as session:
        mobile = session.scalars(
            select(ContactPoint).where(ContactPoint.value == "+12125550102")
        ).one()
        set_opt_out(session, clock.now(), "debtor:sms", mobile, opted_out=True)
    with factory() as session:
        answers = {n.channel: n for n in next_contacts(session, debtor_id, policy, clock.now())}
        batch = load_debtor(session, debtor_id, clock.now(), policy.longest_cap_days)
        points = batch.contact_points[debtor_id]
        opted_out = batch.debtor_snapshot(debtor_id).opted_out
        for channel in ("sms", "email", "letter", "call"):
            chosen = choose_contact(points, channel, opted_out)
            assert chosen is not None
            assert answers[channel].to == chosen.value
    assert answers["sms"].to == "+12125550101"  # the mobile opted out: the home number
    assert answers["email"].to == "jo@example.com"
