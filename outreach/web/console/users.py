"""Admins' user page: add users, disable them, mint API tokens (a new token is shown once,
on the page the form returns)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from outreach.actions.audit import ActionError
from outreach.services import users
from outreach.services.fields import Id, Text
from outreach.services.inputs import TOKEN_NAME_MAX, UserIn
from outreach.web.console.paths import PREFIX, console_router, see_other
from outreach.web.console.templating import page
from outreach.web.deps import AdminForm, ConsoleAdmin, DbSession, Principal
from outreach.web.refusals import http_errors

router = console_router()


def _users_page(
    request: Request,
    principal: Principal,
    session: Session,
    *,
    error: str | None = None,
    new_token: str | None = None,
    status: int = 200,
) -> Response:
    return page(
        request,
        principal,
        "users.html",
        title="Users",
        status=status,
        error=error,
        users=users.all_users(session),
        new_token=new_token,
    )


@router.get("/users")
def users_page(request: Request, principal: ConsoleAdmin, session: DbSession) -> Response:
    return _users_page(request, principal, session)


@router.post("/users")
def user_add(
    request: Request,
    principal: AdminForm,
    session: DbSession,
    data: Annotated[UserIn, Form()],
) -> Response:
    try:
        users.add_user(session, principal, data)
    except ActionError as exc:
        return _users_page(request, principal, session, error=str(exc), status=400)
    return see_other(f"{PREFIX}/users")


@router.post("/users/{user_id}/disable")
def user_disable(user_id: Id, principal: AdminForm, session: DbSession) -> Response:
    with http_errors():
        users.disable_user(session, principal, user_id)
    return see_other(f"{PREFIX}/users")


@router.post("/users/{user_id}/tokens")
def user_token(
    request: Request,
    user_id: Id,
    principal: AdminForm,
    session: DbSession,
    name: Annotated[Text, Form(min_length=1, max_length=TOKEN_NAME_MAX)] = "console",
) -> Response:
    with http_errors():
        try:
            token = users.mint_token(session, principal, user_id, name)
        except ActionError as exc:
            return _users_page(request, principal, session, error=str(exc), status=400)
    return _users_page(request, principal, session, new_token=token)
