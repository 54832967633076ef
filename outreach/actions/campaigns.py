"""Campaign status (active, paused) and enrolling an account by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.actions.audit import ActionError, add_audited, audit
from outreach.db.models import (
    Account,
    CampaignRow,
    Enrollment,
)
from outreach.vocabulary import CampaignStatus


def set_campaign_status(
    session: Session, now: datetime, actor: str, campaign: CampaignRow, status: str
) -> bool:
    """Pause or resume a campaign (paused: nothing of it is claimed or newly enrolled)."""
    if status not in tuple(CampaignStatus):
        raise ActionError(f"campaign status must be active or paused, not {status!r}")
    if campaign.status == status:
        return False
    campaign.status, campaign.updated_at = status, now
    audit(
        session,
        now,
        actor,
        "campaign.paused" if status == "paused" else "campaign.resumed",
        subject=f"campaign:{campaign.name}",
    )
    return True


def enroll_account(
    session: Session,
    now: datetime,
    actor: str,
    *,
    account: Account,
    campaign: CampaignRow,
    first_step_day: int,
) -> Enrollment:
    """Enroll one account in a campaign by hand; the planner plans its steps from now on."""
    if account.status != "open":
        raise ActionError(f"account {account.external_id} is {account.status}, not open")
    exists = session.scalars(
        select(Enrollment).where(
            Enrollment.account_id == account.id, Enrollment.campaign_id == campaign.id
        )
    ).first()
    if exists is not None:
        raise ActionError(f"account {account.external_id} is already in campaign {campaign.name}")
    enrollment = Enrollment(
        campaign_id=campaign.id,
        debtor_id=account.debtor_id,
        account_id=account.id,
        enrolled_at=now,
        status="active",
        next_step=0,
        next_due_at=now + timedelta(days=first_step_day),
    )
    detail = {"campaign": campaign.name}
    return add_audited(session, now, actor, "campaign.enrolled", enrollment, "enrollment", detail)
