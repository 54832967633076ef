"""One delivery-event path: a Twilio 21610 reads the same on the debtor's record whether the
send itself or a later status callback reported it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.casework import AuditEvent
from outreach.db.models import ContactPoint, Message
from outreach.inbound.status import record_status
from outreach.queries.timeline import debtor_timeline
from outreach.vocabulary import MessageState
from tests.factories import add_debtor
from tests.pipeline_harness import running_pipeline

UNSUBSCRIBED = "+15005550010"  # the sandbox answers 21610 for this number
OTHER = "+12125550143"


def _record(session: Session, debtor_id: int, number: str) -> dict[str, Any]:
    """The debtor's audit rows and timeline audit entries, with their number blanked out."""
    audit = session.scalars(
        select(AuditEvent).where(AuditEvent.debtor_id == debtor_id).order_by(AuditEvent.id)
    ).all()
    timeline = [e for e in debtor_timeline(session, debtor_id) if e.kind == "audit"]
    return {
        "audit": [
            (a.action, a.actor, {k: str(v).replace(number, "N") for k, v in a.detail.items()})
            for a in audit
        ],
        "timeline": [(e.title, e.actor, (e.body or "").replace(number, "N")) for e in timeline],
        "opted_out": [
            p.opted_out_at is not None and p.consent == "revoked"
            for p in session.scalars(
                select(ContactPoint).where(
                    ContactPoint.debtor_id == debtor_id, ContactPoint.kind == "phone"
                )
            )
        ],
    }


async def test_a_21610_at_send_time_and_in_a_status_callback_are_recorded_alike(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    async with running_pipeline(config, engine, clock) as p:
        factory = p.runtime.factory
        at_send, _ = add_debtor(factory, clock.now(), phones=[(UNSUBSCRIBED, "mobile")], emails=[])
        p.plan()
        await p.dispatcher().run_until_idle()
        clock.advance(timedelta(days=3))
        p.plan()
        await p.dispatcher().run_until_idle()
        sms = next(m for m in p.messages() if m.channel == "sms" and m.debtor_id == at_send)
        assert (sms.state, sms.error_code) == ("failed", "21610")

        by_callback, account_id = add_debtor(
            factory, clock.now(), phones=[(OTHER, "mobile")], emails=[]
        )
        with factory.begin() as session:
            message = Message(
                debtor_id=by_callback,
                account_id=account_id,
                channel="sms",
                template="sms/reminder",
                to_address=OTHER,
                state=MessageState.SENT,
                provider_id="SM" + "1" * 32,
                due_at=clock.now(),
                sent_at=clock.now(),
                created_at=clock.now(),
                updated_at=clock.now(),
            )
            session.add(message)
        with factory.begin() as session:
            result = record_status(
                session, clock.now(), sid="SM" + "1" * 32, status="undelivered", error_code="21610"
            )
        assert result.state == "undelivered"

        with factory() as session:
            sent = _record(session, at_send, UNSUBSCRIBED)
            called_back = _record(session, by_callback, OTHER)
    assert sent == called_back
    assert sent["opted_out"] == [True]
    assert [(title, actor) for title, actor, _ in sent["timeline"]] == [
        ("contact.opt_out", "provider:twilio")
    ]
    assert sent["audit"] == [
        (
            "contact.opt_out",
            "provider:twilio",
            {
                "kind": "phone",
                "value": "N",
                "reason": "Twilio error 21610: Attempt to send to unsubscribed recipient",
            },
        )
    ]
