"""GET /api/inbox, replies waiting for a person and open tasks; and marking them done."""

from __future__ import annotations

from fastapi import APIRouter

from outreach.queries.inbox import inbox
from outreach.services import inbox as inbox_service
from outreach.services.fields import Id
from outreach.web.api.models import ERRORS, Done, InboxOut, InboxReplyOut, InboxTaskOut
from outreach.web.deps import ApiAgent, DbSession
from outreach.web.refusals import http_errors

router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)


@router.get("/inbox")
def get_inbox(principal: ApiAgent, session: DbSession) -> InboxOut:
    """Replies waiting for a person, and open tasks (addresses masked)."""
    box = inbox(session)
    return InboxOut(
        replies=[InboxReplyOut.model_validate(r, from_attributes=True) for r in box.replies],
        tasks=[InboxTaskOut.model_validate(t, from_attributes=True) for t in box.tasks],
    )


@router.post("/inbox/replies/{inbound_id}/handled")
def reply_handled(inbound_id: Id, principal: ApiAgent, session: DbSession) -> Done:
    with http_errors():
        return Done.of(inbox_service.reply_handled(session, principal, inbound_id))


@router.post("/inbox/tasks/{task_id}/done")
def task_done(task_id: Id, principal: ApiAgent, session: DbSession) -> Done:
    with http_errors():
        return Done.of(inbox_service.task_done(session, principal, task_id))
