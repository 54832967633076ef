"""GET /api/messages: the message log, filtered and paged; and one message with its events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.exceptions import RequestValidationError

from outreach.masking import mask, mask_text
from outreach.queries.message import message_record
from outreach.services.fields import Id
from outreach.web.api.models import ERRORS, EventOut, LogPageOut, LogRow, MessageOut
from outreach.web.deps import ApiAgent, DbSession, RuntimeDep
from outreach.web.logparams import LogParams

router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)


@router.get("/messages")
def list_messages(
    principal: ApiAgent,
    session: DbSession,
    runtime: RuntimeDep,
    params: Annotated[LogParams, Query()],
) -> LogPageOut:
    """The message log, newest first, 50 a page by default; follow `next_before`."""
    settings = runtime.config.file
    try:
        page = params.page(session, region=settings.default_region, size=settings.console.page_size)
    except ValueError as exc:  # an address that is no phone number: as any invalid field
        error = {"type": "value_error", "loc": ("query", "address"), "msg": str(exc)}
        raise RequestValidationError([{**error, "input": params.address}]) from None
    return LogPageOut(
        items=[LogRow.model_validate(r) for r in page.rows], next_before=page.next_before
    )


@router.get("/messages/{message_id}")
def get_message(message_id: Id, principal: ApiAgent, session: DbSession) -> MessageOut:
    record = message_record(session, message_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no message {message_id}")
    m = record.message
    return MessageOut(
        id=m.id,
        debtor_id=m.debtor_id,
        account_id=m.account_id,
        campaign=m.campaign,
        step=m.step_id,
        channel=m.channel,
        kind=m.kind,
        template=m.template,
        to=mask(m.to_address),
        state=m.state,
        due_at=m.due_at,
        sent_at=m.sent_at,
        decision=m.decision,
        error=mask_text(m.error_message) if m.error_message else None,
        events=[
            EventOut(
                at=e.at,
                from_state=e.from_state,
                to_state=e.to_state,
                cause=e.cause,
                detail=e.detail,
            )
            for e in record.events
        ],
    )
