"""Console and API users: roles, creation, disabling, API tokens."""

from __future__ import annotations

import logging
import re
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from outreach.actions.audit import ActionError, audit
from outreach.auth.passwords import MIN_PASSWORD, hash_password, new_token, token_digest
from outreach.db.users import ApiToken, User, UserSession
from outreach.vocabulary import Role

log = logging.getLogger(__name__)


ROLES = tuple(r.value for r in Role)  # each role has every right of the ones before it


_RANK: dict[str, int] = {role.value: rank for rank, role in enumerate(Role)}


# The audit trail names a user "agent:NAME" in 64-character columns (actor, author, done_by).
NAME_MAX = 58


_NAME = re.compile(rf"^[a-z0-9][a-z0-9._-]{{1,{NAME_MAX - 1}}}$")


def has_role(role: str, needed: str) -> bool:
    return _RANK.get(role, -1) >= _RANK[needed]


def find_user(session: Session, name: str) -> User | None:
    return session.scalars(select(User).where(User.name == name)).first()


def create_user(
    session: Session, now: datetime, actor: str, *, name: str, role: str, password: str
) -> User:
    if not _NAME.match(name):
        raise ActionError(
            f"name must be 2-{NAME_MAX} characters: lower-case letters, digits, '.', '_' or '-'"
        )
    if role not in ROLES:
        raise ActionError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if len(password) < MIN_PASSWORD:
        raise ActionError(f"password must be at least {MIN_PASSWORD} characters")
    if find_user(session, name) is not None:
        raise ActionError(f"a user named {name!r} already exists")
    user = User(name=name, role=role, password_hash=hash_password(password), created_at=now)
    session.add(user)
    session.flush()
    audit(session, now, actor, "user.created", subject=f"user:{user.id}", detail={"role": role})
    return user


def disable_user(session: Session, now: datetime, actor: str, user: User) -> bool:
    """Disable a user and end every session and token they hold. False if already disabled."""
    if user.disabled_at is not None:
        return False
    user.disabled_at = now
    for model in (UserSession, ApiToken):
        session.execute(
            update(model)
            .where(model.user_id == user.id, model.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    audit(session, now, actor, "user.disabled", subject=f"user:{user.id}")
    return True


def mint_api_token(session: Session, now: datetime, actor: str, user: User, name: str) -> str:
    """A new bearer token for `user`; the caller shows it once, only its hash is kept."""
    if user.disabled_at is not None:
        raise ActionError(f"user {user.name!r} is disabled")
    token = new_token()
    row = ApiToken(token_hash=token_digest(token), user_id=user.id, name=name, created_at=now)
    session.add(row)
    session.flush()
    audit(
        session, now, actor, "api_token.created", subject=f"user:{user.id}", detail={"name": name}
    )
    return token
