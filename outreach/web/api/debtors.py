"""GET /api/debtors/{id}, a debtor's whole record; and POST one of an agent's actions on it
(`DEBTOR_ACTIONS`: notes, calls, holds, payments, promises, opt-outs)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from outreach.db.models import Hold
from outreach.queries.debtor import debtor_view
from outreach.queries.next_contact import next_contacts
from outreach.queries.timeline import debtor_timeline
from outreach.services.debtors import DEBTOR_ACTIONS, DebtorAction, act_on_debtor, find_debtor
from outreach.services.fields import Id
from outreach.web.api.models import (
    ERRORS,
    AccountOut,
    ContactPointOut,
    DebtorOut,
    Done,
    HoldOut,
    NextContactOut,
    TimelineEntryOut,
)
from outreach.web.deps import ApiAgent, DbSession, RuntimeDep
from outreach.web.refusals import http_errors

router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)


def _hold(hold: Hold) -> HoldOut:
    return HoldOut.model_validate(hold, from_attributes=True)


@router.get("/debtors/{debtor_id}")
def get_debtor(
    debtor_id: Id, principal: ApiAgent, session: DbSession, runtime: RuntimeDep
) -> DebtorOut:
    """A debtor's whole record, with full contact values: the API's debtor page."""
    with http_errors():
        debtor = find_debtor(session, debtor_id)
    view = debtor_view(session, debtor)
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
                holds=[_hold(h) for h in a.holds],
                campaigns=a.campaigns,
            )
            for a in view.accounts
        ],
        holds=[_hold(h) for h in view.holds],
        open_tasks=[t.id for t in view.tasks],
        next_contact=[
            NextContactOut.model_validate(n.to_dict())
            for n in next_contacts(session, debtor.id, runtime.config.policy, principal.now)
        ],
        timeline=[
            TimelineEntryOut.model_validate(e.to_dict())
            for e in debtor_timeline(session, debtor.id)
        ],
    )


def _add_route(action: DebtorAction[Any]) -> None:
    """POST /debtors/{debtor_id}/<slug>: the action's input as JSON; 201 and what it did."""

    def endpoint(debtor_id: Id, data: Any, principal: ApiAgent, session: DbSession) -> Done:
        with http_errors():
            return Done.of(act_on_debtor(session, principal, debtor_id, action, data))

    # `action.model` is not a name postponed annotations can resolve: set it directly.
    endpoint.__annotations__["data"] = action.model
    endpoint.__name__ = action.name
    endpoint.__doc__ = action.doc
    router.post(f"/debtors/{{debtor_id}}/{action.slug}", status_code=status.HTTP_201_CREATED)(
        endpoint
    )


for _action in DEBTOR_ACTIONS:
    _add_route(_action)
