"""The unknown sends page: messages whose send may or may not have happened, each with the
forms ops settle it with (resolve as sent, as not sent, requeue through compliance)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from outreach.actions.audit import ActionError
from outreach.queries.unknowns import unknown_sends
from outreach.services import unknowns
from outreach.services.fields import Blank, Id
from outreach.services.inputs import RequeueIn, ResolveIn
from outreach.vocabulary import Channel
from outreach.web.console.paths import PREFIX, console_router, see_other
from outreach.web.console.templating import page
from outreach.web.deps import ConsoleAgent, DbSession, OpsForm, Principal
from outreach.web.refusals import http_errors

router = console_router()


def _unknown_page(
    request: Request,
    principal: Principal,
    session: Session,
    *,
    channel: Channel | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    return page(
        request,
        principal,
        "unknown.html",
        title="Unknown sends",
        status=status,
        error=error,
        rows=unknown_sends(session, channel=channel),
        channel=channel,
        channels=[c.value for c in Channel],
    )


@router.get("/unknown")
def unknown_page(
    request: Request,
    principal: ConsoleAgent,
    session: DbSession,
    channel: Annotated[Blank[Channel], Query()] = None,
) -> Response:
    """`channel` "" (the filter's "any") lists every channel."""
    return _unknown_page(request, principal, session, channel=channel)


@router.post("/unknown/{message_id}/resolve")
def unknown_resolve(
    request: Request,
    message_id: Id,
    principal: OpsForm,
    session: DbSession,
    data: Annotated[ResolveIn, Form()],
) -> Response:
    with http_errors():
        try:
            unknowns.resolve(session, principal, message_id, data)
        except ActionError as exc:
            return _unknown_page(request, principal, session, error=str(exc), status=400)
    return see_other(f"{PREFIX}/unknown")


@router.post("/unknown/{message_id}/requeue")
def unknown_requeue(
    request: Request,
    message_id: Id,
    principal: OpsForm,
    session: DbSession,
    data: Annotated[RequeueIn, Form()],
) -> Response:
    with http_errors():
        try:
            unknowns.requeue(session, principal, message_id, data)
        except ActionError as exc:
            return _unknown_page(request, principal, session, error=str(exc), status=400)
    return see_other(f"{PREFIX}/unknown")
