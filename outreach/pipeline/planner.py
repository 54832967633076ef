"""The planner: enroll matching accounts in campaigns and turn due steps into message rows.

Idempotent by construction: an account is enrolled once per campaign (unique key) and a
step becomes a message once per enrollment (unique key, INSERT ... ON CONFLICT DO NOTHING),
so overlapping ticks or two planners can never plan a step twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from outreach.clock import Clock
from outreach.config.campaigns import Campaign, Segment
from outreach.db.engine import insert_ignoring_duplicates
from outreach.db.models import Account, CampaignRow, Enrollment, Message
from outreach.db.outbox import Transition, record_events
from outreach.vocabulary import MessageState

PLANNER_LOCK_KEY = 0x6F7574726561  # "outrea": one planner at a time on PostgreSQL


@dataclass(frozen=True)
class PlanReport:
    enrolled: int = 0
    planned: int = 0
    completed: int = 0
    skipped_lock: bool = False


def segment_matches(segment: Segment, account: Account) -> bool:
    balance = float(account.balance)
    tags = set(account.tags or [])
    checks = (
        segment.min_balance is None or balance >= segment.min_balance,
        segment.max_balance is None or balance <= segment.max_balance,
        segment.min_days_past_due is None or account.days_past_due >= segment.min_days_past_due,
        segment.max_days_past_due is None or account.days_past_due <= segment.max_days_past_due,
        not segment.states or (account.state or "") in segment.states,
        not segment.tags_any or bool(tags & set(segment.tags_any)),
        not (tags & set(segment.tags_none)),
        segment.include_time_barred or not account.time_barred,
    )
    return all(checks)


def sync_campaigns(
    session: Session, campaigns: Mapping[str, Campaign], now: datetime
) -> dict[str, CampaignRow]:
    """Make sure every configured campaign has a row (status is kept: ops may have paused it)."""
    rows = {r.name: r for r in session.scalars(select(CampaignRow))}
    for name, campaign in campaigns.items():
        definition = campaign.model_dump(mode="json")
        row = rows.get(name)
        if row is None:
            row = CampaignRow(name=name, status="active", definition=definition, updated_at=now)
            session.add(row)
            rows[name] = row
        elif row.definition != definition:
            row.definition, row.updated_at = definition, now
    session.flush()
    return rows


def enroll(
    session: Session,
    campaigns: Mapping[str, Campaign],
    rows: Mapping[str, CampaignRow],
    now: datetime,
    batch: int = 2000,
) -> int:
    """Enroll open accounts that are in no campaign yet in the first matching one by priority."""
    ordered = sorted(
        (c for c in campaigns.values() if c.auto_enroll and rows[c.name].status == "active"),
        key=lambda c: (c.priority, c.name),
    )
    if not ordered:
        return 0
    enrolled_accounts = select(Enrollment.account_id)
    total, last_id = 0, 0
    while True:
        accounts = list(
            session.scalars(
                select(Account)
                .where(
                    Account.status == "open",
                    Account.id > last_id,
                    Account.id.not_in(enrolled_accounts),
                )
                .order_by(Account.id)
                .limit(batch)
            )
        )
        if not accounts:
            return total
        last_id = accounts[-1].id
        values = []
        for account in accounts:
            campaign = next((c for c in ordered if segment_matches(c.segment, account)), None)
            if campaign is None:
                continue
            values.append(
                {
                    "campaign_id": rows[campaign.name].id,
                    "debtor_id": account.debtor_id,
                    "account_id": account.id,
                    "enrolled_at": now,
                    "status": "active",
                    "next_step": 0,
                    "next_due_at": now + timedelta(days=campaign.steps[0].day),
                }
            )
        if values:
            result = session.execute(
                insert_ignoring_duplicates(session, Enrollment).returning(Enrollment.id), values
            )
            total += len(result.all())


def plan_due_steps(
    session: Session,
    campaigns: Mapping[str, Campaign],
    now: datetime,
    batch: int = 2000,
) -> tuple[int, int]:
    """Create message rows for every step due by `now`; returns (planned, completed)."""
    names = {r.id: r.name for r in session.scalars(select(CampaignRow))}
    planned = completed = 0
    last_id = 0
    while True:
        enrollments: Sequence[Enrollment] = list(
            session.scalars(
                select(Enrollment)
                .where(
                    Enrollment.status == "active",
                    Enrollment.next_due_at <= now,
                    Enrollment.id > last_id,
                )
                .order_by(Enrollment.id)
                .limit(batch)
            )
        )
        if not enrollments:
            return planned, completed
        last_id = enrollments[-1].id
        values: list[dict[str, Any]] = []
        for enrollment in enrollments:
            name = names[enrollment.campaign_id]
            campaign = campaigns.get(name)
            if campaign is None:  # the campaign file was removed: stop, say why
                enrollment.status, enrollment.stop_reason = "stopped", "campaign file removed"
                enrollment.next_due_at = None
                continue
            steps = campaign.steps
            index = enrollment.next_step
            while index < len(steps):
                due = enrollment.enrolled_at + timedelta(days=steps[index].day)
                if due > now:
                    break
                step = steps[index]
                values.append(
                    {
                        "enrollment_id": enrollment.id,
                        "step_id": step.id,
                        "debtor_id": enrollment.debtor_id,
                        "account_id": enrollment.account_id,
                        "campaign": name,
                        "channel": step.channel,
                        "kind": step.kind,
                        "template": step.template,
                        "state": MessageState.PLANNED,
                        "due_at": due,
                        "created_at": now,
                        "updated_at": now,
                        "attempts": 0,
                    }
                )
                index += 1
            enrollment.next_step = index
            if index >= len(steps):
                enrollment.status, enrollment.next_due_at = "completed", None
                completed += 1
            else:
                enrollment.next_due_at = enrollment.enrolled_at + timedelta(days=steps[index].day)
        if values:
            ids = (
                session.execute(
                    insert_ignoring_duplicates(session, Message).returning(Message.id), values
                )
                .scalars()
                .all()
            )
            planned += len(ids)
            record_events(
                session,
                (Transition(i, None, MessageState.PLANNED, "planner") for i in ids),
                now,
            )
        session.flush()


def _take_planner_lock(session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: BEGIN IMMEDIATE already serializes writers
    return bool(
        session.execute(
            text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": PLANNER_LOCK_KEY}
        ).scalar()
    )


def tick(
    factory: sessionmaker[Session], campaigns: Mapping[str, Campaign], clock: Clock
) -> PlanReport:
    """One planner pass: sync campaign rows, enroll, plan. One transaction."""
    now = clock.now()
    with factory.begin() as session:
        if not _take_planner_lock(session):
            return PlanReport(skipped_lock=True)
        rows = sync_campaigns(session, campaigns, now)
        enrolled = enroll(session, campaigns, rows, now)
        planned, completed = plan_due_steps(session, campaigns, now)
    return PlanReport(enrolled=enrolled, planned=planned, completed=completed)
