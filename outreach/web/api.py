"""The JSON API under /api: the console's data and actions for scripts and other tools.

Authentication is a bearer token per user (`outreach users token NAME`), never a cookie, so
no CSRF token is needed; roles are checked exactly as in the console. Lists mask phones,
emails and account numbers; a debtor's own record (GET /api/debtors/{id}) shows them in full.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.actions.audit import ActionError
from outreach.actions.campaigns import set_campaign_status
from outreach.actions.casework import close_task, mark_inbound_handled
from outreach.auth.users import disable_user, mint_api_token
from outreach.db.casework import Task
from outreach.db.models import InboundMessage, Message, MessageEvent
from outreach.db.users import User
from outreach.masking import mask, mask_text
from outreach.queries.dashboard import dashboard
from outreach.queries.debtor import debtor_view
from outreach.queries.inbox import inbox
from outreach.queries.log import log_page
from outreach.queries.next_contact import next_contacts
from outreach.queries.timeline import debtor_timeline
from outreach.runtime import Runtime
from outreach.services import commands
from outreach.web.deps import ApiAdmin, ApiAgent, ApiOps, DbSession, Principal, RuntimeDep
from outreach.web.logparams import LogParams

router = APIRouter(prefix="/api", tags=["api"])


# --- response models ------------------------------------------------------------------------


class Me(BaseModel):
    name: str
    role: str


class LogRow(BaseModel):
    id: int
    created_at: datetime
    due_at: datetime
    sent_at: datetime | None
    debtor_id: int
    debtor: str
    account: str | None
    campaign: str | None
    step: str | None
    channel: str
    template: str
    to: str
    state: str
    verdict: str | None
    rules: list[str]
    reasons: list[str]
    error: str | None


class LogPageOut(BaseModel):
    items: list[LogRow]
    next_before: int | None  # pass as ?before= for the next page


class EventOut(BaseModel):
    at: datetime
    from_state: str | None
    to_state: str
    cause: str
    detail: dict[str, Any] | None


class MessageOut(BaseModel):
    id: int
    debtor_id: int
    account_id: int | None
    campaign: str | None
    step: str | None
    channel: str
    kind: str
    template: str
    to: str  # masked
    state: str
    due_at: datetime
    sent_at: datetime | None
    decision: dict[str, Any] | None
    error: str | None
    events: list[EventOut]


class ContactPointOut(BaseModel):
    id: int
    kind: str
    value: str
    label: str | None
    consent: str
    opted_out_at: datetime | None
    undeliverable_at: datetime | None


class HoldOut(BaseModel):
    id: int
    kind: str
    account_id: int | None
    reason: str
    source: str
    created_at: datetime


class AccountOut(BaseModel):
    id: int
    external_id: str
    creditor: str
    account_number: str
    balance: Decimal
    status: str
    state: str | None
    holds: list[HoldOut]
    campaigns: list[str]


class NextContactOut(BaseModel):
    channel: str
    account: str | None
    verdict: str
    at: datetime | None
    to: str | None
    rules: list[str]
    reasons: list[str]


class TimelineEntryOut(BaseModel):
    at: datetime
    kind: str
    title: str
    actor: str | None
    state: str | None
    channel: str | None
    body: str | None
    rules: list[str]
    reasons: list[str]
    events: list[dict[str, Any]]
    ref: str | None


class DebtorOut(BaseModel):
    id: int
    external_id: str
    name: str
    stated_timezone: str | None
    inconvenient_times: list[dict[str, Any]]
    contact_points: list[ContactPointOut]
    accounts: list[AccountOut]
    holds: list[HoldOut]
    open_tasks: list[int]
    next_contact: list[NextContactOut]
    timeline: list[TimelineEntryOut]


class Done(BaseModel):
    ok: bool = True
    id: int | None = None
    changed: bool = True


class InboxReplyOut(BaseModel):
    id: int
    received_at: datetime
    channel: str
    from_address: str
    body: str
    intent: str | None
    action: str | None
    debtor_id: int | None
    debtor_name: str | None
    tasks: list[int]


class InboxTaskOut(BaseModel):
    id: int
    created_at: datetime
    kind: str
    summary: str
    debtor_id: int | None
    debtor_name: str | None


class InboxOut(BaseModel):
    replies: list[InboxReplyOut]
    tasks: list[InboxTaskOut]


class BlockReason(BaseModel):
    rule: str
    title: str
    count: int


class CampaignOut(BaseModel):
    name: str
    status: str
    days: list[date]
    series: dict[str, dict[str, list[int]]]  # channel -> outcome -> count per day
    totals: dict[str, int]
    top_blocks: list[BlockReason]


class UserOut(BaseModel):
    id: int
    name: str
    role: str
    created_at: datetime
    disabled_at: datetime | None
    last_login_at: datetime | None


class TokenOut(BaseModel):
    token: str  # shown once; only its hash is stored


# --- helpers --------------------------------------------------------------------------------


def _apply(session: Session, run: Callable[[], Any]) -> Any:
    """Run an action; refusals are 400 and unknown objects 404, nothing written either way."""
    try:
        result = run()
    except commands.NotFound as exc:
        session.rollback()
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except ActionError as exc:
        session.rollback()
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    session.commit()
    return result


def _user_out(user: User) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


# --- reading --------------------------------------------------------------------------------


@router.get("/me")
def me(principal: ApiAgent) -> Me:
    return Me(name=principal.user.name, role=principal.user.role)


@router.get("/messages")
def list_messages(
    principal: ApiAgent,
    session: DbSession,
    runtime: RuntimeDep,
    params: Annotated[LogParams, Query()],
) -> LogPageOut:
    """The message log, newest first, 50 a page by default; follow `next_before`."""
    try:
        address = params.to_address(runtime.config.file.default_region)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    page = log_page(
        session,
        params.log_filter(),
        address=address,
        before_id=params.before,
        size=runtime.config.file.console.page_size,
    )
    return LogPageOut(
        items=[LogRow.model_validate(r) for r in page.rows], next_before=page.next_before
    )


@router.get("/messages/{message_id}")
def get_message(message_id: int, principal: ApiAgent, session: DbSession) -> MessageOut:
    m = session.get(Message, message_id)
    if m is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no message {message_id}")
    events = session.scalars(
        select(MessageEvent).where(MessageEvent.message_id == m.id).order_by(MessageEvent.id)
    )
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
            for e in events
        ],
    )


@router.get("/debtors/{debtor_id}")
def get_debtor(
    debtor_id: int, principal: ApiAgent, session: DbSession, runtime: RuntimeDep
) -> DebtorOut:
    """A debtor's whole record, with full contact values: the API's debtor page."""
    try:
        debtor = commands.debtor_or_404(session, debtor_id)
    except commands.NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    view = debtor_view(session, debtor)
    hold = lambda h: HoldOut.model_validate(h, from_attributes=True)  # noqa: E731
    return DebtorOut(
        id=debtor.id,
        external_id=debtor.external_id,
        name=debtor.full_name,
        stated_timezone=debtor.stated_timezone,
        inconvenient_times=debtor.inconvenient_times,
        contact_points=[
            ContactPointOut.model_validate(p, from_attributes=True) for p in view.contact_points
        ],
        accounts=[
            AccountOut(
                id=a.account.id,
                external_id=a.account.external_id,
                creditor=a.account.creditor,
                account_number=a.account.account_number,
                balance=a.account.balance,
                status=a.account.status,
                state=a.account.state,
                holds=[hold(h) for h in a.holds],
                campaigns=a.campaigns,
            )
            for a in view.accounts
        ],
        holds=[hold(h) for h in view.holds],
        open_tasks=[t.id for t in view.tasks],
        next_contact=[
            NextContactOut.model_validate(n.to_dict())
            for n in next_contacts(session, debtor.id, runtime.config.policy, runtime.clock.now())
        ],
        timeline=[
            TimelineEntryOut.model_validate(e.to_dict())
            for e in debtor_timeline(session, debtor.id)
        ],
    )


@router.get("/inbox")
def get_inbox(principal: ApiAgent, session: DbSession) -> InboxOut:
    """Replies waiting for a person, and open tasks (addresses masked)."""
    box = inbox(session)
    return InboxOut(
        replies=[InboxReplyOut.model_validate(r, from_attributes=True) for r in box.replies],
        tasks=[InboxTaskOut.model_validate(t, from_attributes=True) for t in box.tasks],
    )


@router.get("/campaigns")
def get_campaigns(principal: ApiOps, session: DbSession, runtime: RuntimeDep) -> list[CampaignOut]:
    """Per campaign and day: transitions by channel and outcome; the top block rules."""
    stats = dashboard(session, runtime.clock.now(), runtime.config.file.console.dashboard_days)
    return [CampaignOut.model_validate(s.to_dict()) for s in stats]


@router.get("/users")
def list_users(principal: ApiAdmin, session: DbSession) -> list[UserOut]:
    return [_user_out(u) for u in session.scalars(select(User).order_by(User.name))]


# --- agent actions --------------------------------------------------------------------------


def _debtor_action(path: str, model: type[Any], apply: Callable[..., Any], doc: str) -> None:
    def endpoint(
        debtor_id: int,
        data: Any,
        principal: ApiAgent,
        session: DbSession,
        runtime: RuntimeDep,
    ) -> Done:
        def run() -> Any:
            commands.debtor_or_404(session, debtor_id)
            return apply(session, runtime.clock.now(), principal.actor, debtor_id, data)

        result = _apply(session, run)
        if isinstance(result, bool):
            return Done(changed=result)
        return Done(id=result if isinstance(result, int) else None)

    # `model` is a closure variable that postponed annotations cannot name: set it directly.
    endpoint.__annotations__["data"] = model
    endpoint.__name__ = f"debtor_{path.replace('/', '_').replace('-', '_')}"
    endpoint.__doc__ = doc
    router.post(f"/debtors/{{debtor_id}}/{path}", status_code=status.HTTP_201_CREATED)(endpoint)


_debtor_action("notes", commands.NoteIn, commands.add_note, "Add a note.")
_debtor_action("calls", commands.CallIn, commands.record_call, "Record a call attempt or talk.")
_debtor_action("holds", commands.HoldIn, commands.set_hold, "Set a hold (idempotent).")
_debtor_action("holds/release", commands.HoldIn, commands.release_hold, "Release holds.")
_debtor_action("payments", commands.PaymentIn, commands.record_payment, "Record a payment.")
_debtor_action("promises", commands.PromiseIn, commands.record_promise, "Record a promise.")
_debtor_action("opt-out", commands.OptOutIn, commands.set_opt_out, "Opt a contact out or in.")


@router.post("/inbox/replies/{inbound_id}/handled")
def reply_handled(
    inbound_id: int, principal: ApiAgent, session: DbSession, runtime: RuntimeDep
) -> Done:
    inbound = session.get(InboundMessage, inbound_id)
    if inbound is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no reply {inbound_id}")
    changed = _apply(
        session,
        lambda: mark_inbound_handled(session, runtime.clock.now(), principal.actor, inbound),
    )
    return Done(id=inbound_id, changed=changed)


@router.post("/inbox/tasks/{task_id}/done")
def task_done(task_id: int, principal: ApiAgent, session: DbSession, runtime: RuntimeDep) -> Done:
    task = session.get(Task, task_id)
    if task is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no task {task_id}")
    changed = _apply(
        session, lambda: close_task(session, runtime.clock.now(), principal.actor, task)
    )
    return Done(id=task_id, changed=changed)


# --- ops: campaigns -------------------------------------------------------------------------


def _set_status(name: str, value: str, principal: Principal, session: Session, rt: Runtime) -> Done:
    def run() -> bool:
        row = commands.campaign_row(session, name)
        return set_campaign_status(session, rt.clock.now(), principal.actor, row, value)

    return Done(changed=_apply(session, run))


@router.post("/campaigns/{name}/pause")
def pause_campaign(name: str, principal: ApiOps, session: DbSession, runtime: RuntimeDep) -> Done:
    return _set_status(name, "paused", principal, session, runtime)


@router.post("/campaigns/{name}/resume")
def resume_campaign(name: str, principal: ApiOps, session: DbSession, runtime: RuntimeDep) -> Done:
    return _set_status(name, "active", principal, session, runtime)


@router.post("/campaigns/{name}/enroll", status_code=status.HTTP_201_CREATED)
def enroll(
    name: str,
    data: commands.EnrollIn,
    principal: ApiOps,
    session: DbSession,
    runtime: RuntimeDep,
) -> Done:
    """Enroll one account (by external id) in the campaign; the planner plans its steps."""
    enrollment_id = _apply(
        session,
        lambda: commands.enroll(
            session, runtime.clock.now(), principal.actor, runtime.config.campaigns, name, data
        ),
    )
    return Done(id=enrollment_id)


# --- admin: users ---------------------------------------------------------------------------


@router.post("/users", status_code=status.HTTP_201_CREATED)
def add_user(
    data: commands.UserIn, principal: ApiAdmin, session: DbSession, runtime: RuntimeDep
) -> UserOut:
    user = _apply(
        session, lambda: commands.add_user(session, runtime.clock.now(), principal.actor, data)
    )
    return _user_out(user)


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no user {user_id}")
    return user


@router.post("/users/{user_id}/disable")
def disable(user_id: int, principal: ApiAdmin, session: DbSession, runtime: RuntimeDep) -> Done:
    user = _user(session, user_id)
    if user.id == principal.user.id:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "you cannot disable yourself")
    changed = _apply(
        session, lambda: disable_user(session, runtime.clock.now(), principal.actor, user)
    )
    return Done(id=user_id, changed=changed)


@router.post("/users/{user_id}/tokens", status_code=status.HTTP_201_CREATED)
def new_token(
    user_id: int,
    principal: ApiAdmin,
    session: DbSession,
    runtime: RuntimeDep,
    name: Annotated[str, Query(min_length=1, max_length=64)] = "api",
) -> TokenOut:
    """Mint an API token for a user; it is shown once."""
    user = _user(session, user_id)
    token = _apply(
        session, lambda: mint_api_token(session, runtime.clock.now(), principal.actor, user, name)
    )
    return TokenOut(token=token)
