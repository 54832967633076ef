"""Who may use the console and the API: users, passwords, sessions, API tokens, CSRF, roles.

No secret rests in the database in a usable form: passwords are argon2 hashes, and session
cookies and API tokens are random values of which only the SHA-256 is stored, so a copy of
the database signs nobody in. Failed sign-ins are audited and counted per user name and
client address from the audit table itself, so the limit holds across processes and restarts.

The service functions take a Session and leave the commit to the caller (like actions.py);
the FastAPI dependencies at the end are what routes declare.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Annotated, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from outreach.actions import ActionError, audit
from outreach.config import ConsoleSettings
from outreach.masking import mask
from outreach.models import ApiToken, AuditEvent, User, UserSession
from outreach.runtime import Runtime

log = logging.getLogger(__name__)

ROLES = ("agent", "ops", "admin")  # each role has every right of the ones before it
_RANK = {role: rank for rank, role in enumerate(ROLES)}
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10
SESSION_COOKIE = "outreach_session"
SIGN_IN_FAILED = "auth.sign_in_failed"
# Touch ApiToken.last_used_at at most this often: not one write per API request.
_TOKEN_TOUCH = timedelta(minutes=1)

_hasher = PasswordHasher()


def has_role(role: str, needed: str) -> bool:
    return _RANK.get(role, -1) >= _RANK[needed]


# --- secrets --------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_password(stored: str | None, password: str) -> bool:
    """Constant work whether or not the user exists (`stored` None): no name probing by time."""
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(secret_key: str, session_digest: str) -> str:
    """The CSRF token of a signed-in browser: bound to its session, useless in any other."""
    return hmac.new(secret_key.encode(), b"csrf:" + session_digest.encode(), "sha256").hexdigest()


def same_secret(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


# --- users ----------------------------------------------------------------------------------


def find_user(session: Session, name: str) -> User | None:
    return session.scalars(select(User).where(User.name == name)).first()


def create_user(
    session: Session, now: datetime, actor: str, *, name: str, role: str, password: str
) -> User:
    if not _NAME.match(name):
        raise ActionError(
            "name must be 2-64 characters: lower-case letters, digits, '.', '_' or '-'"
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


# --- sign-in, sessions, tokens --------------------------------------------------------------


class SignInRefused(Exception):
    """Wrong name or password (deliberately not saying which), or too many failures."""

    def __init__(self, message: str, *, rate_limited: bool = False) -> None:
        super().__init__(message)
        self.rate_limited = rate_limited


def _throttle_key(name: str, ip: str) -> str:
    return "sign-in:" + hashlib.sha256(f"{name.lower()}|{ip}".encode()).hexdigest()[:40]


def sign_in(
    session: Session, now: datetime, settings: ConsoleSettings, *, name: str, password: str, ip: str
) -> User:
    """Check a password, counting failures per (name, ip). The caller commits either way:
    a failure is audited, and the audit rows are the counter."""
    key = _throttle_key(name, ip)
    since = now - timedelta(minutes=settings.sign_in_window_minutes)
    failures = session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == SIGN_IN_FAILED, AuditEvent.subject == key, AuditEvent.at >= since
        )
    )
    if (failures or 0) >= settings.sign_in_max_failures:
        log.warning("sign-in refused: too many failures for %s from %s", mask(name), ip)
        raise SignInRefused("Too many failed sign-ins. Try again later.", rate_limited=True)
    user = find_user(session, name)
    if user is not None and user.disabled_at is not None:
        user = None  # a disabled user fails like a wrong password, after the same work
    if not verify_password(user.password_hash if user else None, password) or user is None:
        log.warning("failed sign-in for %s from %s", mask(name), ip)
        audit(
            session,
            now,
            f"web:{ip}"[:64],
            SIGN_IN_FAILED,
            subject=key,
            detail={"name": mask(name), "ip": ip},
        )
        raise SignInRefused("Wrong user name or password.")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    audit(session, now, f"agent:{user.name}", "auth.sign_in", subject=f"user:{user.id}")
    return user


def start_session(session: Session, now: datetime, user: User, lifetime: timedelta) -> str:
    token = new_token()
    session.add(
        UserSession(
            token_hash=token_digest(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def session_user(session: Session, token: str, now: datetime) -> User | None:
    row = session.execute(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.token_hash == token_digest(token),
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > now,
            User.disabled_at.is_(None),
        )
    ).scalar_one_or_none()
    return row


def end_session(session: Session, now: datetime, token: str, user: User) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.token_hash == token_digest(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    audit(session, now, f"agent:{user.name}", "auth.sign_out", subject=f"user:{user.id}")


def api_token_user(session: Session, token: str, now: datetime) -> User | None:
    found = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.token_hash == token_digest(token),
            ApiToken.revoked_at.is_(None),
            User.disabled_at.is_(None),
        )
    ).first()
    if found is None:
        return None
    api_token, user = found
    if api_token.last_used_at is None or now - api_token.last_used_at > _TOKEN_TOUCH:
        api_token.last_used_at = now
    return user


# --- FastAPI dependencies -------------------------------------------------------------------


def get_runtime(request: Request) -> Runtime:
    return cast(Runtime, request.app.state.runtime)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def db_session(runtime: RuntimeDep) -> Iterator[Session]:
    """One session per request; routes that write commit it themselves."""
    with runtime.factory() as session:
        yield session


DbSession = Annotated[Session, Depends(db_session)]


class SignInRequired(Exception):
    """Raised for a console request without a valid session; the app redirects to sign-in."""


@dataclass(frozen=True)
class Principal:
    """The signed-in user of a request, and how the request authenticated."""

    user: User
    csrf: str | None = None  # console only: the form token of this browser session
    session_token: str | None = None

    @property
    def actor(self) -> str:
        return f"agent:{self.user.name}"


def console_principal(request: Request, session: DbSession, runtime: RuntimeDep) -> Principal:
    token = request.cookies.get(SESSION_COOKIE)
    user = session_user(session, token, runtime.clock.now()) if token else None
    session.commit()  # end the read: SQLite's write lock must not outlive the check
    if user is None or token is None:
        raise SignInRequired()
    return Principal(
        user=user,
        csrf=csrf_token(runtime.config.secret_key, token_digest(token)),
        session_token=token,
    )


_bearer = HTTPBearer(auto_error=False, description="An API token from `outreach users token`")


def api_principal(
    session: DbSession,
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    user = (
        api_token_user(session, credentials.credentials, runtime.clock.now())
        if credentials is not None
        else None
    )
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a valid API token is required (Authorization: Bearer ...)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    session.commit()  # last_used_at, if touched; and SQLite's lock must not outlive the check
    return Principal(user=user)


def _role_check(needed: str, principal: Principal) -> Principal:
    if not has_role(principal.user.role, needed):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the {needed} role")
    return principal


def console_role(needed: str) -> Callable[..., Principal]:
    """A dependency: the signed-in console user, who must hold `needed` (or a higher role)."""

    def dependency(principal: Annotated[Principal, Depends(console_principal)]) -> Principal:
        return _role_check(needed, principal)

    return dependency


def api_role(needed: str) -> Callable[..., Principal]:
    """A dependency: the API token's user, who must hold `needed` (or a higher role)."""

    def dependency(principal: Annotated[Principal, Depends(api_principal)]) -> Principal:
        return _role_check(needed, principal)

    return dependency


def console_form(needed: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency for console POSTs: the role check, then the form's CSRF token (403)."""
    role = console_role(needed)

    async def dependency(request: Request, principal: Principal) -> Principal:
        given = (await request.form()).get("csrf_token")
        if principal.csrf is None or not same_secret(principal.csrf, str(given or "")) or not given:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, "the form's CSRF token is missing or wrong; reload"
            )
        return principal

    # `role` is a closure variable that postponed annotations cannot name: set it directly.
    dependency.__annotations__["principal"] = Annotated[Principal, Depends(role)]
    return dependency


ConsoleAgent = Annotated[Principal, Depends(console_role("agent"))]
ConsoleOps = Annotated[Principal, Depends(console_role("ops"))]
ConsoleAdmin = Annotated[Principal, Depends(console_role("admin"))]
ApiAgent = Annotated[Principal, Depends(api_role("agent"))]
ApiOps = Annotated[Principal, Depends(api_role("ops"))]
ApiAdmin = Annotated[Principal, Depends(api_role("admin"))]
AgentForm = Annotated[Principal, Depends(console_form("agent"))]
OpsForm = Annotated[Principal, Depends(console_form("ops"))]
AdminForm = Annotated[Principal, Depends(console_form("admin"))]
