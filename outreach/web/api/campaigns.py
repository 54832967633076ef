"""Ops: GET /api/campaigns, the dashboard's numbers; pause, resume, enroll an account."""

from __future__ import annotations

from fastapi import APIRouter, status

from outreach.queries.dashboard import dashboard
from outreach.services import campaigns
from outreach.services.inputs import CampaignName, EnrollIn
from outreach.vocabulary import CampaignStatus
from outreach.web.api.models import ERRORS, CampaignOut, Done
from outreach.web.deps import ApiOps, DbSession, RuntimeDep
from outreach.web.refusals import http_errors

router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)


@router.get("/campaigns")
def get_campaigns(principal: ApiOps, session: DbSession, runtime: RuntimeDep) -> list[CampaignOut]:
    """Per campaign and day: transitions by channel and outcome; the top block rules."""
    stats = dashboard(session, principal.now, runtime.config.file.console.dashboard_days)
    return [CampaignOut.model_validate(s.to_dict()) for s in stats]


@router.post("/campaigns/{name}/pause")
def pause_campaign(name: CampaignName, principal: ApiOps, session: DbSession) -> Done:
    with http_errors():
        return Done.of(campaigns.set_status(session, principal, name, CampaignStatus.PAUSED))


@router.post("/campaigns/{name}/resume")
def resume_campaign(name: CampaignName, principal: ApiOps, session: DbSession) -> Done:
    with http_errors():
        return Done.of(campaigns.set_status(session, principal, name, CampaignStatus.ACTIVE))


@router.post("/campaigns/{name}/enroll", status_code=status.HTTP_201_CREATED)
def enroll(
    name: CampaignName, data: EnrollIn, principal: ApiOps, session: DbSession, runtime: RuntimeDep
) -> Done:
    """Enroll one account (by external id) in the campaign; the planner plans its steps."""
    with http_errors():
        return Done.of(campaigns.enroll(session, principal, runtime.config.campaigns, name, data))
