"""Signing in to the console (double-submit CSRF on the form, rate-limited by the service)
and signing out. The session cookie is HttpOnly, SameSite=Lax, Secure behind https."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Form, HTTPException, Query, Request
from starlette.responses import Response

from outreach.auth.passwords import same_secret
from outreach.auth.sessions import SESSION_COOKIE, SignInRefused
from outreach.db.users import User
from outreach.runtime import Runtime
from outreach.services import signin
from outreach.services.fields import Text, length_of
from outreach.services.inputs import PASSWORD_MAX
from outreach.web.console.paths import PREFIX, console_router, see_other
from outreach.web.console.templating import page
from outreach.web.deps import AgentForm, DbSession, RuntimeDep

SIGN_IN_COOKIE = "outreach_sign_in"  # double-submit CSRF token of the sign-in form
NEXT_MAX = 4_000  # the page to go back to after signing in

router = console_router()


def _secure(runtime: Runtime) -> bool:
    setting = runtime.config.file.console.secure_cookie
    return setting if setting is not None else runtime.config.public_url.startswith("https:")


def _safe_next(target: str | None) -> str:
    """Only redirect within the console after sign-in (no open redirect)."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//"):
        return target
    return f"{PREFIX}/log"


def _sign_in_page(
    request: Request,
    runtime: Runtime,
    *,
    next_url: str,
    error: str | None = None,
    status: int = 200,
) -> Response:
    token = secrets.token_urlsafe(32)
    response = page(
        request,
        None,
        "sign_in.html",
        title="Sign in",
        status=status,
        error=error,
        sign_in_token=token,
        next_url=next_url,
    )
    response.set_cookie(
        SIGN_IN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(runtime),
        path=f"{PREFIX}/sign-in",
    )
    return response


@router.get("/sign-in")
def sign_in_form(
    request: Request,
    runtime: RuntimeDep,
    next: Annotated[Text | None, Query(max_length=NEXT_MAX)] = None,
) -> Response:
    return _sign_in_page(request, runtime, next_url=_safe_next(next))


@router.post("/sign-in")
def sign_in_submit(
    request: Request,
    runtime: RuntimeDep,
    session: DbSession,
    name: Annotated[Text, Form(max_length=length_of(User.name))],
    password: Annotated[Text, Form(max_length=PASSWORD_MAX)],
    csrf_token: Annotated[Text, Form(max_length=100)] = "",
    next: Annotated[Text, Form(max_length=NEXT_MAX)] = "",
) -> Response:
    if not same_secret(request.cookies.get(SIGN_IN_COOKIE, ""), csrf_token) or not csrf_token:
        raise HTTPException(403, "the sign-in form expired; reload the page and sign in again")
    settings = runtime.config.file.console
    ip = request.client.host if request.client else "unknown"
    try:
        token = signin.sign_in(
            session, runtime.clock.now(), settings, name=name.strip(), password=password, ip=ip
        )
    except SignInRefused as exc:
        refused = _sign_in_page(
            request,
            runtime,
            next_url=_safe_next(next),
            error=str(exc),
            status=429 if exc.rate_limited else 401,
        )
        if exc.rate_limited:  # at the latest when the window has passed (RFC 9110 10.2.3)
            refused.headers["Retry-After"] = str(settings.sign_in_window_minutes * 60)
        return refused
    response = see_other(_safe_next(next))
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(signin.session_lifetime(settings).total_seconds()),
        httponly=True,
        samesite="lax",
        secure=_secure(runtime),
        path=PREFIX,
    )
    response.delete_cookie(SIGN_IN_COOKIE, path=f"{PREFIX}/sign-in")
    return response


@router.post("/sign-out")
def sign_out(principal: AgentForm, session: DbSession) -> Response:
    assert principal.session_token is not None
    signin.sign_out(session, principal.now, principal.session_token, principal.user)
    response = see_other(f"{PREFIX}/sign-in")
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response
