"""The user services refuse what no route may do, whichever route calls them: an admin
disabling themselves, tokens for a disabled user, ids that do not exist."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from outreach.actions.audit import ActionError
from outreach.db.casework import AuditEvent
from outreach.db.users import ApiToken, User
from outreach.services import users
from outreach.services.contract import Acting, NotFound, Outcome
from outreach.services.inputs import UserIn


def test_an_admin_cannot_disable_themselves(factory: sessionmaker[Session], admin: Acting) -> None:
    with factory() as session, pytest.raises(ActionError, match="you cannot disable yourself"):
        users.disable_user(session, admin, admin.user.id)
    with factory() as session:
        assert session.get(User, admin.user.id).disabled_at is None  # type: ignore[union-attr]


def test_disabling_commits_once_and_is_then_unchanged(
    factory: sessionmaker[Session], admin: Acting
) -> None:
    with factory() as session:
        bob = users.add_user(session, admin, UserIn(name="bob", role="agent", password="y" * 12))
        assert users.disable_user(session, admin, bob.id) == Outcome(id=bob.id, changed=True)
        assert users.disable_user(session, admin, bob.id) == Outcome(id=bob.id, changed=False)
        with pytest.raises(ActionError, match="'bob' is disabled"):
            users.mint_token(session, admin, bob.id, "api")
    with factory() as session:
        assert session.scalars(select(ApiToken)).all() == []
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["user.created", "user.created", "user.disabled"]


def test_unknown_users_are_not_found(factory: sessionmaker[Session], admin: Acting) -> None:
    with factory() as session:
        with pytest.raises(NotFound, match="no user 999"):
            users.disable_user(session, admin, 999)
        with pytest.raises(NotFound, match="no user 999"):
            users.mint_token(session, admin, 999, "api")
