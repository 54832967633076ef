"""GET /api/unknown, the sends whose outcome is unknown; and settling one (ops): resolve it
as sent or not sent, or requeue it through compliance. A message that is not unknown is a
400 with its state; an id that is no message, 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query

from outreach.queries.unknowns import unknown_sends
from outreach.services import unknowns
from outreach.services.fields import Id
from outreach.services.inputs import RequeueIn, ResolveIn
from outreach.vocabulary import Channel
from outreach.web.api.models import ERRORS, Done, UnknownSendOut
from outreach.web.deps import ApiAgent, ApiOps, DbSession
from outreach.web.refusals import http_errors

router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)


@router.get("/unknown")
def list_unknown(
    principal: ApiAgent,
    session: DbSession,
    channel: Channel | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[UnknownSendOut]:
    """Unknown sends, the longest waiting first (recipients and errors masked)."""
    rows = unknown_sends(session, channel=channel, limit=limit)
    return [UnknownSendOut.model_validate(r, from_attributes=True) for r in rows]


@router.post("/unknown/{message_id}/resolve")
def resolve_unknown(message_id: Id, data: ResolveIn, principal: ApiOps, session: DbSession) -> Done:
    """`sent: true`: it went out (sent); `false`: it did not (failed, "not_sent")."""
    with http_errors():
        return Done.of(unknowns.resolve(session, principal, message_id, data))


@router.post("/unknown/{message_id}/requeue")
def requeue_unknown(
    message_id: Id,
    principal: ApiOps,
    session: DbSession,
    data: Annotated[RequeueIn | None, Body()] = None,
) -> Done:
    """Plan it again, due now; the dispatcher checks compliance before any send."""
    with http_errors():
        return Done.of(unknowns.requeue(session, principal, message_id, data or RequeueIn()))
