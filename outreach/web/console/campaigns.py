"""Ops' campaign dashboard (outcomes per day as SVG charts, top block rules) and its forms:
pause, resume, enroll an account."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from outreach.actions.audit import ActionError
from outreach.queries.dashboard import OUTCOMES, dashboard
from outreach.runtime import Runtime
from outreach.services import campaigns
from outreach.services.inputs import CampaignName, EnrollIn
from outreach.vocabulary import CampaignStatus
from outreach.web.console.charts import stacked_bars
from outreach.web.console.paths import PREFIX, console_router, see_other
from outreach.web.console.templating import page
from outreach.web.deps import ConsoleOps, DbSession, OpsForm, Principal, RuntimeDep
from outreach.web.refusals import http_errors

router = console_router()


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
    stats = dashboard(session, principal.now, days)
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


@router.post("/campaigns/{name}/pause")
def campaign_pause(name: CampaignName, principal: OpsForm, session: DbSession) -> Response:
    with http_errors():
        campaigns.set_status(session, principal, name, CampaignStatus.PAUSED)
    return see_other(f"{PREFIX}/campaigns")


@router.post("/campaigns/{name}/resume")
def campaign_resume(name: CampaignName, principal: OpsForm, session: DbSession) -> Response:
    with http_errors():
        campaigns.set_status(session, principal, name, CampaignStatus.ACTIVE)
    return see_other(f"{PREFIX}/campaigns")


@router.post("/campaigns/{name}/enroll")
def campaign_enroll(
    request: Request,
    name: CampaignName,
    principal: OpsForm,
    session: DbSession,
    runtime: RuntimeDep,
    data: Annotated[EnrollIn, Form()],
) -> Response:
    with http_errors():
        try:
            campaigns.enroll(session, principal, runtime.config.campaigns, name, data)
        except ActionError as exc:
            return _campaigns_page(request, principal, session, runtime, error=str(exc), status=400)
    return see_other(f"{PREFIX}/campaigns")
