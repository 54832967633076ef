"""What admins do to console and API users: list, add, disable (never themselves), mint
an API token (shown once). Each change is one transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.actions.audit import ActionError
from outreach.auth import users
from outreach.db.users import User
from outreach.services.contract import Acting, Outcome, found
from outreach.services.inputs import UserIn


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))


def add_user(session: Session, by: Acting, data: UserIn) -> User:
    with session.begin():
        return users.create_user(
            session, by.now, by.actor, name=data.name, role=data.role, password=data.password
        )


def disable_user(session: Session, by: Acting, user_id: int) -> Outcome:
    """Disable a user, ending their sessions and tokens; an admin cannot disable themselves."""
    with session.begin():
        user = found(session, User, user_id, "user")
        if user.id == by.user.id:
            raise ActionError("you cannot disable yourself")
        changed = users.disable_user(session, by.now, by.actor, user)
    return Outcome(id=user_id, changed=changed)


def mint_token(session: Session, by: Acting, user_id: int, name: str) -> str:
    """A new API token for the user, to show once (only its hash is stored)."""
    with session.begin():
        user = found(session, User, user_id, "user")
        return users.mint_api_token(session, by.now, by.actor, user, name)
