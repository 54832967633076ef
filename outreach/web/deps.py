"""The FastAPI dependencies that routes declare, as `Annotated` aliases: the runtime, one
database session per request, and the signed-in user (console cookie or API bearer token)
with the role a route needs and, for console forms, the CSRF check.

The checks themselves live in `outreach.auth` (sessions, tokens, roles), which knows
nothing of FastAPI; this module only wires them to requests and to 401/403 answers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from outreach.auth.passwords import csrf_token, same_secret, token_digest
from outreach.auth.sessions import SESSION_COOKIE, api_token_user, session_user
from outreach.auth.users import has_role
from outreach.runtime import Runtime
from outreach.services.contract import Acting

log = logging.getLogger(__name__)


def get_runtime(request: Request) -> Runtime:
    return cast(Runtime, request.app.state.runtime)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def db_session(runtime: RuntimeDep) -> Iterator[Session]:
    """One session per request; the services a route calls own their transactions."""
    with runtime.factory() as session:
        yield session


DbSession = Annotated[Session, Depends(db_session)]


class SignInRequired(Exception):
    """Raised for a console request without a valid session; the app redirects to sign-in."""


@dataclass(frozen=True)
class Principal(Acting):
    """The signed-in user of a request at the request's time, and how it authenticated;
    as an `Acting`, what a route passes to the services it calls."""

    csrf: str | None = None  # console only: the form token of this browser session
    session_token: str | None = None


def console_principal(request: Request, session: DbSession, runtime: RuntimeDep) -> Principal:
    token = request.cookies.get(SESSION_COOKIE)
    now = runtime.clock.now()
    user = session_user(session, token, now) if token else None
    session.commit()  # end the read: SQLite's write lock must not outlive the check
    if user is None or token is None:
        raise SignInRequired()
    return Principal(
        user=user,
        now=now,
        csrf=csrf_token(runtime.config.secret_key, token_digest(token)),
        session_token=token,
    )


_bearer = HTTPBearer(auto_error=False, description="An API token from `outreach users token`")


def api_principal(
    session: DbSession,
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    now = runtime.clock.now()
    user = (
        api_token_user(session, credentials.credentials, now) if credentials is not None else None
    )
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a valid API token is required (Authorization: Bearer ...)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    session.commit()  # last_used_at, if touched; and SQLite's lock must not outlive the check
    return Principal(user=user, now=now)


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
