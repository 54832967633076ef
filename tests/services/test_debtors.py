"""A debtor action is one transaction: applied and audited as the acting user, or refused
(unknown debtor, another debtor's account) with nothing written."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from outreach.actions.audit import ActionError
from outreach.db.casework import AuditEvent, Note, Payment
from outreach.services.contract import Acting, NotFound
from outreach.services.debtors import DEBTOR_ACTIONS, act_on_debtor
from outreach.services.inputs import NoteIn, PaymentIn
from tests.factories import add_debtor

ACTIONS = {a.slug: a for a in DEBTOR_ACTIONS}


def test_the_actions_console_and_api_share() -> None:
    assert list(ACTIONS) == [
        "notes",
        "calls",
        "holds",
        "holds/release",
        "payments",
        "promises",
        "opt-out",
    ]
    assert ACTIONS["holds/release"].name == "debtor_holds_release"


def test_an_action_is_applied_and_audited_or_refused_with_nothing_written(
    factory: sessionmaker[Session], admin: Acting
) -> None:
    debtor, _ = add_debtor(factory, admin.now)
    _, foreign = add_debtor(factory, admin.now, first="Other")
    with factory() as session:
        note = act_on_debtor(session, admin, debtor, ACTIONS["notes"], NoteIn(body="hello"))
        assert note.id is not None and note.changed
        with pytest.raises(ActionError, match="is not this debtor's"):
            act_on_debtor(
                session,
                admin,
                debtor,
                ACTIONS["payments"],
                PaymentIn(account_id=foreign, amount=Decimal("5")),
            )
        with pytest.raises(NotFound, match="no debtor 424242"):
            act_on_debtor(session, admin, 424242, ACTIONS["notes"], NoteIn(body="lost"))
    with factory() as session:
        assert session.scalars(select(Note.body)).all() == ["hello"]
        assert session.scalars(select(Payment)).all() == []
        audit = session.execute(
            select(AuditEvent.actor, AuditEvent.action).where(AuditEvent.debtor_id == debtor)
        ).all()
    assert [tuple(a) for a in audit] == [("agent:root", "note.added")]
