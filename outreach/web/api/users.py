"""GET /api/me for any user; for admins, the users: list, add, disable, mint API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from outreach.db.users import User
from outreach.services import users
from outreach.services.fields import Id, Text
from outreach.services.inputs import TOKEN_NAME_MAX, UserIn
from outreach.web.api.models import ERRORS, Done, Me, TokenOut, UserOut
from outreach.web.deps import ApiAdmin, ApiAgent, DbSession
from outreach.web.refusals import http_errors

router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)


def _user_out(user: User) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


@router.get("/me")
def me(principal: ApiAgent) -> Me:
    return Me(name=principal.user.name, role=principal.user.role)


@router.get("/users")
def list_users(principal: ApiAdmin, session: DbSession) -> list[UserOut]:
    return [_user_out(u) for u in users.all_users(session)]


@router.post("/users", status_code=status.HTTP_201_CREATED)
def add_user(data: UserIn, principal: ApiAdmin, session: DbSession) -> UserOut:
    with http_errors():
        return _user_out(users.add_user(session, principal, data))


@router.post("/users/{user_id}/disable")
def disable(user_id: Id, principal: ApiAdmin, session: DbSession) -> Done:
    with http_errors():
        return Done.of(users.disable_user(session, principal, user_id))


@router.post("/users/{user_id}/tokens", status_code=status.HTTP_201_CREATED)
def new_token(
    user_id: Id,
    principal: ApiAdmin,
    session: DbSession,
    name: Annotated[Text, Query(min_length=1, max_length=TOKEN_NAME_MAX)] = "api",
) -> TokenOut:
    """Mint an API token for a user; it is shown once."""
    with http_errors():
        return TokenOut(token=users.mint_token(session, principal, user_id, name))
