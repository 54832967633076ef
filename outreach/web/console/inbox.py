"""The inbox: replies that need a person and open tasks, each marked done from here."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from outreach.queries.inbox import inbox
from outreach.services import inbox as inbox_service
from outreach.services.fields import Id
from outreach.web.console.paths import PREFIX, console_router, see_other
from outreach.web.console.templating import page
from outreach.web.deps import AgentForm, ConsoleAgent, DbSession
from outreach.web.refusals import http_errors

router = console_router()


@router.get("/inbox")
def inbox_page(request: Request, principal: ConsoleAgent, session: DbSession) -> Response:
    return page(request, principal, "inbox.html", title="Inbox", inbox=inbox(session))


@router.post("/inbox/replies/{inbound_id}/handled")
def reply_handled(inbound_id: Id, principal: AgentForm, session: DbSession) -> Response:
    with http_errors():
        inbox_service.reply_handled(session, principal, inbound_id)
    return see_other(f"{PREFIX}/inbox")


@router.post("/inbox/tasks/{task_id}/done")
def task_done(task_id: Id, principal: AgentForm, session: DbSession) -> Response:
    with http_errors():
        inbox_service.task_done(session, principal, task_id)
    return see_other(f"{PREFIX}/inbox")
