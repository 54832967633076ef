"""A debtor's page (record in full, timeline, next allowed contact) and its forms, one per
`DEBTOR_ACTIONS` entry: applied, then back to the timeline; refused, the page again with
the reason (400)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from outreach.actions.audit import ActionError
from outreach.queries.debtor import debtor_view
from outreach.queries.next_contact import next_contacts
from outreach.queries.timeline import debtor_timeline
from outreach.runtime import Runtime
from outreach.services.debtors import DEBTOR_ACTIONS, DebtorAction, act_on_debtor, find_debtor
from outreach.services.fields import Id
from outreach.vocabulary import HoldKind
from outreach.web.console.paths import PREFIX, console_router, see_other
from outreach.web.console.templating import page
from outreach.web.deps import AgentForm, ConsoleAgent, DbSession, Principal, RuntimeDep
from outreach.web.refusals import http_errors

router = console_router()


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
    with http_errors():
        debtor = find_debtor(session, debtor_id)
    return page(
        request,
        principal,
        "debtor.html",
        title=debtor.full_name,
        status=status,
        error=error,
        view=debtor_view(session, debtor),
        timeline=debtor_timeline(session, debtor_id),
        next_contacts=next_contacts(session, debtor_id, runtime.config.policy, principal.now),
        now=principal.now,
        hold_kinds=tuple(HoldKind),
    )


@router.get("/debtors/{debtor_id}")
def debtor_page(
    request: Request,
    debtor_id: Id,
    principal: ConsoleAgent,
    session: DbSession,
    runtime: RuntimeDep,
) -> Response:
    return _debtor_page(request, principal, session, runtime, debtor_id)


def _add_route(action: DebtorAction[Any]) -> None:
    """POST /debtors/{debtor_id}/<slug>: the action's input as a form."""

    def endpoint(
        request: Request,
        debtor_id: Id,
        principal: AgentForm,
        session: DbSession,
        runtime: RuntimeDep,
        data: Any,
    ) -> Response:
        with http_errors():
            try:
                act_on_debtor(session, principal, debtor_id, action, data)
            except ActionError as exc:
                return _debtor_page(
                    request, principal, session, runtime, debtor_id, error=str(exc), status=400
                )
        return see_other(f"{PREFIX}/debtors/{debtor_id}#timeline")

    # `action.model` is not a name postponed annotations can resolve: set it directly.
    endpoint.__annotations__["data"] = Annotated[action.model, Form()]
    endpoint.__name__ = action.name
    router.post(f"/debtors/{{debtor_id}}/{action.slug}")(endpoint)


for _action in DEBTOR_ACTIONS:
    _add_route(_action)
