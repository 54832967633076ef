"""The agent console's pages and forms under /console. Routes stay thin: they check the role
(a dependency), read or apply through views/commands, commit, and render or redirect."""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, StreamingResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from outreach.actions.audit import ActionError
from outreach.actions.campaigns import set_campaign_status
from outreach.actions.casework import close_task, mark_inbound_handled
from outreach.actions.holds import HOLD_KINDS
from outreach.auth.passwords import same_secret
from outreach.auth.sessions import (
    SESSION_COOKIE,
    SignInRefused,
    end_session,
    sign_in,
    start_session,
)
from outreach.auth.users import disable_user, mint_api_token
from outreach.db.casework import Task
from outreach.db.models import InboundMessage, Message, MessageEvent
from outreach.db.users import User
from outreach.queries.dashboard import OUTCOMES, dashboard
from outreach.queries.debtor import debtor_view
from outreach.queries.inbox import inbox
from outreach.queries.log import EXPORT_COLUMNS, iter_export, log_page
from outreach.queries.next_contact import next_contacts
from outreach.queries.timeline import debtor_timeline
from outreach.runtime import Runtime
from outreach.services import commands
from outreach.web.console.charts import stacked_bars
from outreach.web.console.templating import page
from outreach.web.deps import (
    AdminForm,
    AgentForm,
    ConsoleAdmin,
    ConsoleAgent,
    ConsoleOps,
    DbSession,
    OpsForm,
    Principal,
    RuntimeDep,
)
from outreach.web.logparams import LogParams

PREFIX = "/console"
SIGN_IN_COOKIE = "outreach_sign_in"  # double-submit CSRF token of the sign-in form

router = APIRouter(prefix=PREFIX, include_in_schema=False)
In = TypeVar("In")


def _secure(runtime: Runtime) -> bool:
    setting = runtime.config.file.console.secure_cookie
    return setting if setting is not None else runtime.config.public_url.startswith("https:")


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _safe_next(target: str | None) -> str:
    """Only redirect within the console after sign-in (no open redirect)."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//"):
        return target
    return f"{PREFIX}/log"


# --- sign-in and sign-out -------------------------------------------------------------------


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
def sign_in_form(request: Request, runtime: RuntimeDep, next: str | None = None) -> Response:
    return _sign_in_page(request, runtime, next_url=_safe_next(next))


@router.post("/sign-in")
def sign_in_submit(
    request: Request,
    runtime: RuntimeDep,
    session: DbSession,
    name: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    if not same_secret(request.cookies.get(SIGN_IN_COOKIE, ""), csrf_token) or not csrf_token:
        raise HTTPException(403, "the sign-in form expired; reload the page and sign in again")
    now = runtime.clock.now()
    settings = runtime.config.file.console
    ip = request.client.host if request.client else "unknown"
    try:
        user = sign_in(session, now, settings, name=name.strip(), password=password, ip=ip)
    except SignInRefused as exc:
        session.commit()  # the failure is audited: it is also the rate limiter's counter
        return _sign_in_page(
            request,
            runtime,
            next_url=_safe_next(next),
            error=str(exc),
            status=429 if exc.rate_limited else 401,
        )
    lifetime = timedelta(hours=settings.session_hours)
    token = start_session(session, now, user, lifetime)
    session.commit()
    response = _see_other(_safe_next(next))
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=_secure(runtime),
        path=PREFIX,
    )
    response.delete_cookie(SIGN_IN_COOKIE, path=f"{PREFIX}/sign-in")
    return response


@router.post("/sign-out")
def sign_out(principal: AgentForm, session: DbSession, runtime: RuntimeDep) -> Response:
    assert principal.session_token is not None
    end_session(session, runtime.clock.now(), principal.session_token, principal.user)
    session.commit()
    response = _see_other(f"{PREFIX}/sign-in")
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


# --- the message log ------------------------------------------------------------------------


def _log_params(request: Request) -> tuple[LogParams | None, str | None]:
    try:
        return LogParams.model_validate(dict(request.query_params)), None
    except ValidationError as exc:
        return None, _validation_text(exc)


def _validation_text(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors()
    )


@router.get("/log")
def log_view(
    request: Request, principal: ConsoleAgent, session: DbSession, runtime: RuntimeDep
) -> Response:
    params, error = _log_params(request)
    rows: list[dict[str, Any]] = []
    next_url = None
    if params is not None:
        try:
            address = params.to_address(runtime.config.file.default_region)
        except ValueError as exc:
            error, address = str(exc), None
        if error is None:
            result = log_page(
                session,
                params.log_filter(),
                address=address,
                before_id=params.before,
                size=runtime.config.file.console.page_size,
            )
            rows = result.rows
            if result.next_before is not None:
                next_url = "?" + urlencode(params.query(before=result.next_before))
    shown = params or LogParams()
    return page(
        request,
        principal,
        "log.html",
        title="Message log",
        status=422 if error else 200,
        error=error,
        params=shown,
        rows=rows,
        next_url=next_url,
        first_url="?" + urlencode(shown.query(before=None)) if shown.before else None,
        csv_url="log.csv?" + urlencode(shown.query(before=None)),
    )


@router.get("/log.csv")
def log_csv(request: Request, principal: ConsoleAgent, runtime: RuntimeDep) -> Response:
    params, error = _log_params(request)
    if params is None:
        raise HTTPException(422, error)
    try:
        address = params.to_address(runtime.config.file.default_region)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for n, row in enumerate(iter_export(runtime.factory, params.log_filter(), address=address)):
            row["rules"] = " ".join(row["rules"])
            row["reasons"] = " | ".join(row["reasons"])
            writer.writerow(row)
            if n % 500 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="message-log.csv"'},
    )


@router.get("/messages/{message_id}")
def message_view(
    request: Request, message_id: int, principal: ConsoleAgent, session: DbSession
) -> Response:
    message = session.get(Message, message_id)
    if message is None:
        raise HTTPException(404, f"no message {message_id}")
    events = list(
        session.scalars(
            select(MessageEvent)
            .where(MessageEvent.message_id == message_id)
            .order_by(MessageEvent.id)
        )
    )
    return page(
        request,
        principal,
        "message.html",
        title=f"Message {message_id}",
        message=message,
        events=events,
    )


# --- a debtor: record, timeline, actions ----------------------------------------------------


def _debtor_page(
    request: Request,
    principal: Principal,
    session: Session,
    runtime: Runtime,
    debtor_id: int,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    try:
        debtor = commands.debtor_or_404(session, debtor_id)
    except commands.NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    now = runtime.clock.now()
    return page(
        request,
        principal,
        "debtor.html",
        title=debtor.full_name,
        status=status,
        error=error,
        view=debtor_view(session, debtor),
        timeline=debtor_timeline(session, debtor_id),
        next_contacts=next_contacts(session, debtor_id, runtime.config.policy, now),
        now=now,
        hold_kinds=HOLD_KINDS,
    )


@router.get("/debtors/{debtor_id}")
def debtor_page(
    request: Request,
    debtor_id: int,
    principal: ConsoleAgent,
    session: DbSession,
    runtime: RuntimeDep,
) -> Response:
    return _debtor_page(request, principal, session, runtime, debtor_id)


def _debtor_action(
    request: Request,
    principal: Principal,
    session: Session,
    runtime: Runtime,
    debtor_id: int,
    apply: Callable[[], object],
) -> Response:
    """Apply one action for a debtor; on a refusal, show the page again with the reason."""
    try:
        commands.debtor_or_404(session, debtor_id)
        apply()
    except commands.NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except ActionError as exc:
        session.rollback()
        return _debtor_page(
            request, principal, session, runtime, debtor_id, error=str(exc), status=400
        )
    session.commit()
    return _see_other(f"{PREFIX}/debtors/{debtor_id}#timeline")


def _form_action(
    path: str,
    model: type[Any],
    apply: Callable[[Session, Any, str, int, Any], object],
) -> None:
    """Register POST /debtors/{id}/<path>: validate the form as `model`, then `apply`."""

    def endpoint(
        request: Request,
        debtor_id: int,
        principal: AgentForm,
        session: DbSession,
        runtime: RuntimeDep,
        data: Any,
    ) -> Response:
        return _debtor_action(
            request,
            principal,
            session,
            runtime,
            debtor_id,
            lambda: apply(session, runtime.clock.now(), principal.actor, debtor_id, data),
        )

    # `model` is a closure variable that postponed annotations cannot name: set it directly.
    endpoint.__annotations__["data"] = Annotated[model, Form()]
    endpoint.__name__ = f"debtor_{path.replace('/', '_').replace('-', '_')}"
    router.post(f"/debtors/{{debtor_id}}/{path}")(endpoint)


_form_action("notes", commands.NoteIn, commands.add_note)
_form_action("calls", commands.CallIn, commands.record_call)
_form_action("holds", commands.HoldIn, commands.set_hold)
_form_action("holds/release", commands.HoldIn, commands.release_hold)
_form_action("payments", commands.PaymentIn, commands.record_payment)
_form_action("promises", commands.PromiseIn, commands.record_promise)
_form_action("opt-out", commands.OptOutIn, commands.set_opt_out)


# --- the inbox ------------------------------------------------------------------------------


@router.get("/inbox")
def inbox_page(request: Request, principal: ConsoleAgent, session: DbSession) -> Response:
    return page(request, principal, "inbox.html", title="Inbox", inbox=inbox(session))


@router.post("/inbox/replies/{inbound_id}/handled")
def reply_handled(
    inbound_id: int, principal: AgentForm, session: DbSession, runtime: RuntimeDep
) -> Response:
    inbound = session.get(InboundMessage, inbound_id)
    if inbound is None:
        raise HTTPException(404, f"no reply {inbound_id}")
    mark_inbound_handled(session, runtime.clock.now(), principal.actor, inbound)
    session.commit()
    return _see_other(f"{PREFIX}/inbox")


@router.post("/inbox/tasks/{task_id}/done")
def task_done(
    task_id: int, principal: AgentForm, session: DbSession, runtime: RuntimeDep
) -> Response:
    task = session.get(Task, task_id)
    if task is None:
        raise HTTPException(404, f"no task {task_id}")
    close_task(session, runtime.clock.now(), principal.actor, task)
    session.commit()
    return _see_other(f"{PREFIX}/inbox")


# --- campaigns (ops) ------------------------------------------------------------------------


def _campaigns_page(
    request: Request,
    principal: Principal,
    session: Session,
    runtime: Runtime,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    days = runtime.config.file.console.dashboard_days
    stats = dashboard(session, runtime.clock.now(), days)
    charts = {
        (s.name, channel): stacked_bars(
            s.days, series, label=f"{s.name} {channel}: messages per day by outcome"
        )
        for s in stats
        for channel, series in sorted(s.series.items())
    }
    return page(
        request,
        principal,
        "campaigns.html",
        title="Campaigns",
        status=status,
        error=error,
        stats=stats,
        charts=charts,
        outcomes=OUTCOMES,
        days=days,
    )


@router.get("/campaigns")
def campaigns_page(
    request: Request, principal: ConsoleOps, session: DbSession, runtime: RuntimeDep
) -> Response:
    return _campaigns_page(request, principal, session, runtime)


def _campaign_status(
    name: str, status: str, principal: Principal, session: Session, now: Any
) -> None:
    try:
        row = commands.campaign_row(session, name)
    except commands.NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    set_campaign_status(session, now, principal.actor, row, status)
    session.commit()


@router.post("/campaigns/{name}/pause")
def campaign_pause(
    name: str, principal: OpsForm, session: DbSession, runtime: RuntimeDep
) -> Response:
    _campaign_status(name, "paused", principal, session, runtime.clock.now())
    return _see_other(f"{PREFIX}/campaigns")


@router.post("/campaigns/{name}/resume")
def campaign_resume(
    name: str, principal: OpsForm, session: DbSession, runtime: RuntimeDep
) -> Response:
    _campaign_status(name, "active", principal, session, runtime.clock.now())
    return _see_other(f"{PREFIX}/campaigns")


@router.post("/campaigns/{name}/enroll")
def campaign_enroll(
    request: Request,
    name: str,
    principal: OpsForm,
    session: DbSession,
    runtime: RuntimeDep,
    data: Annotated[commands.EnrollIn, Form()],
) -> Response:
    try:
        commands.enroll(
            session, runtime.clock.now(), principal.actor, runtime.config.campaigns, name, data
        )
    except commands.NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except ActionError as exc:
        session.rollback()
        return _campaigns_page(request, principal, session, runtime, error=str(exc), status=400)
    session.commit()
    return _see_other(f"{PREFIX}/campaigns")


# --- users (admin) --------------------------------------------------------------------------


def _users_page(
    request: Request,
    principal: Principal,
    session: Session,
    *,
    error: str | None = None,
    new_token: str | None = None,
    status: int = 200,
) -> Response:
    users = list(session.scalars(select(User).order_by(User.name)))
    return page(
        request,
        principal,
        "users.html",
        title="Users",
        status=status,
        error=error,
        users=users,
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
    runtime: RuntimeDep,
    data: Annotated[commands.UserIn, Form()],
) -> Response:
    try:
        commands.add_user(session, runtime.clock.now(), principal.actor, data)
    except ActionError as exc:
        session.rollback()
        return _users_page(request, principal, session, error=str(exc), status=400)
    session.commit()
    return _see_other(f"{PREFIX}/users")


def _user_or_404(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(404, f"no user {user_id}")
    return user


@router.post("/users/{user_id}/disable")
def user_disable(
    user_id: int, principal: AdminForm, session: DbSession, runtime: RuntimeDep
) -> Response:
    user = _user_or_404(session, user_id)
    if user.id == principal.user.id:
        raise HTTPException(400, "you cannot disable yourself")
    disable_user(session, runtime.clock.now(), principal.actor, user)
    session.commit()
    return _see_other(f"{PREFIX}/users")


@router.post("/users/{user_id}/tokens")
def user_token(
    request: Request,
    user_id: int,
    principal: AdminForm,
    session: DbSession,
    runtime: RuntimeDep,
    name: Annotated[str, Form(min_length=1, max_length=64)] = "console",
) -> Response:
    user = _user_or_404(session, user_id)
    try:
        token = mint_api_token(session, runtime.clock.now(), principal.actor, user, name)
    except ActionError as exc:
        session.rollback()
        return _users_page(request, principal, session, error=str(exc), status=400)
    session.commit()
    return _users_page(request, principal, session, new_token=token)
