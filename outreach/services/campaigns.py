"""What ops do to campaigns: pause, resume, enroll an account. The campaign must exist in
the database (NotFound) and, to enroll, still have its file in config/campaigns."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.actions import campaigns as campaign_actions
from outreach.actions.audit import ActionError
from outreach.config.campaigns import Campaign
from outreach.db.models import Account, CampaignRow
from outreach.services.contract import Acting, NotFound, Outcome
from outreach.services.inputs import EnrollIn
from outreach.vocabulary import CampaignStatus


def _campaign_row(session: Session, name: str) -> CampaignRow:
    row = session.scalars(select(CampaignRow).where(CampaignRow.name == name)).first()
    if row is None:
        raise NotFound(f"no campaign {name!r}")
    return row


def set_status(session: Session, by: Acting, name: str, status: CampaignStatus) -> Outcome:
    """Pause or resume a campaign; unchanged if it already has that status."""
    with session.begin():
        row = _campaign_row(session, name)
        changed = campaign_actions.set_campaign_status(session, by.now, by.actor, row, status)
    return Outcome(changed=changed)


def enroll(
    session: Session, by: Acting, campaigns: dict[str, Campaign], name: str, data: EnrollIn
) -> Outcome:
    """Enroll one account (by external id); the planner then plans its steps."""
    with session.begin():
        row = _campaign_row(session, name)
        campaign = campaigns.get(name)
        if campaign is None:
            raise ActionError(f"campaign {name!r} has no file in config/campaigns any more")
        account = session.scalars(
            select(Account).where(Account.external_id == data.account)
        ).first()
        if account is None:
            raise ActionError(f"account: no account {data.account!r}")
        enrollment = campaign_actions.enroll_account(
            session,
            by.now,
            by.actor,
            account=account,
            campaign=row,
            first_step_day=campaign.steps[0].day,
        )
    return Outcome(id=enrollment.id)
