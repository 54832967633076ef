"""One debtor's page: accounts, contact points (masked), holds, notes, tasks."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.db.casework import Task
from outreach.db.models import (
    Account,
    CampaignRow,
    ContactPoint,
    Debtor,
    Enrollment,
    Hold,
)


@dataclass
class AccountView:
    account: Account
    holds: list[Hold]
    campaigns: list[str]


@dataclass
class DebtorView:
    debtor: Debtor
    contact_points: list[ContactPoint]
    accounts: list[AccountView]
    holds: list[Hold]  # active holds on the debtor as a whole
    tasks: list[Task]  # open


def debtor_view(session: Session, debtor: Debtor) -> DebtorView:
    points = list(
        session.scalars(
            select(ContactPoint)
            .where(ContactPoint.debtor_id == debtor.id)
            .order_by(ContactPoint.id)
        )
    )
    accounts = list(
        session.scalars(select(Account).where(Account.debtor_id == debtor.id).order_by(Account.id))
    )
    holds = list(
        session.scalars(
            select(Hold)
            .where(Hold.debtor_id == debtor.id, Hold.released_at.is_(None))
            .order_by(Hold.id)
        )
    )
    enrolled: dict[int, list[str]] = defaultdict(list)
    for account_id, name, status in session.execute(
        select(Enrollment.account_id, CampaignRow.name, Enrollment.status)
        .join(CampaignRow, CampaignRow.id == Enrollment.campaign_id)
        .where(Enrollment.debtor_id == debtor.id)
    ):
        enrolled[account_id].append(f"{name} ({status})")
    tasks = list(
        session.scalars(
            select(Task)
            .where(Task.debtor_id == debtor.id, Task.status == "open")
            .order_by(Task.id.desc())
        )
    )
    return DebtorView(
        debtor=debtor,
        contact_points=points,
        accounts=[
            AccountView(a, [h for h in holds if h.account_id == a.id], enrolled.get(a.id, []))
            for a in accounts
        ],
        holds=[h for h in holds if h.account_id is None],
        tasks=tasks,
    )
