"""Unknown-send services: one transaction each, acting as the signed-in user; an id that is
no message is NotFound, a message that is not unknown is refused and nothing is written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from outreach.actions.audit import ActionError
from outreach.db.casework import AuditEvent
from outreach.db.models import Message
from outreach.services import unknowns
from outreach.services.contract import Acting, NotFound, Outcome
from outreach.services.inputs import RequeueIn, ResolveIn
from tests.factories import add_debtor
from tests.unknowns_helpers import add_unknown


def test_resolve_and_requeue_act_as_the_user(factory: sessionmaker[Session], admin: Acting) -> None:
    debtor, account = add_debtor(factory, admin.now)
    first = add_unknown(factory, admin.now, debtor, account, step="a")
    second = add_unknown(factory, admin.now, debtor, account, step="b")
    with factory() as session:
        done = unknowns.resolve(session, admin, first, ResolveIn(sent=False, note="no SID"))
        assert done == Outcome(id=first)
        assert unknowns.requeue(session, admin, second, RequeueIn()) == Outcome(id=second)
    with factory() as session:
        resolved, requeued = (session.get_one(Message, i) for i in (first, second))
        audit = session.execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.subject)
            .where(AuditEvent.debtor_id == debtor)
            .order_by(AuditEvent.id)
        ).all()
    assert resolved.state == "failed" and resolved.error_message == (
        "not sent (resolved by agent:root): no SID"
    )
    assert requeued.state == "planned"
    assert [tuple(a) for a in audit] == [
        ("agent:root", "message.resolved_not_sent", f"message:{first}"),
        ("agent:root", "message.requeued", f"message:{second}"),
    ]


def test_bad_ids_and_states_are_refused_and_write_nothing(
    factory: sessionmaker[Session], admin: Acting
) -> None:
    debtor, account = add_debtor(factory, admin.now)
    message_id = add_unknown(factory, admin.now, debtor, account)
    with factory() as session:
        with pytest.raises(NotFound, match="no message 999999"):
            unknowns.resolve(session, admin, 999999, ResolveIn(sent=True))
        unknowns.resolve(session, admin, message_id, ResolveIn(sent=True))
        with pytest.raises(ActionError, match=f"message {message_id} is sent, not unknown"):
            unknowns.requeue(session, admin, message_id, RequeueIn())
        with pytest.raises(ActionError, match="is sent, not unknown"):
            unknowns.resolve(session, admin, message_id, ResolveIn(sent=False))
    with factory() as session:
        assert session.get_one(Message, message_id).state == "sent"
        audited = select(func.count()).where(AuditEvent.debtor_id == debtor)
        assert session.scalar(audited) == 1
