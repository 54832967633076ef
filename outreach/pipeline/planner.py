"""The planner: enroll matching accounts in campaigns and turn due steps into message rows.

Idempotent by construction: an account is enrolled once per campaign (unique key) and a
step becomes a message once per enrollment (unique key, INSERT ... ON CONFLICT DO NOTHING),
so overlapping ticks or two planners can never plan a step twice.

Both passes stream: accounts and enrollments are read CHUNK at a time by id with Core
statements (plain rows, no ORM objects), so a tick over a million accounts holds one chunk in
memory; enrollments move on in one UPDATE per (next step, status, due time) group.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import bindparam, exists, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from outreach.clock import Clock
from outreach.config.campaigns import Campaign, Segment
from outreach.db.bulk import among
from outreach.db.engine import insert_ignoring_duplicates
from outreach.db.models import Account, CampaignRow, Enrollment, Message
from outreach.db.outbox import Transition, record_events
from outreach.db.types import table_of
from outreach.vocabulary import MessageState

PLANNER_LOCK_KEY = 0x6F7574726561  # "outrea": one planner at a time on PostgreSQL


CHUNK = 5000  # accounts or enrollments read (and written) per round trip


_ACCOUNTS, _ENROLLMENTS, _MESSAGES = table_of(Account), table_of(Enrollment), table_of(Message)


class SegmentFacts(Protocol):
    """What a segment looks at: an `Account`, or a row of its columns."""

    @property
    def balance(self) -> Decimal: ...
    @property
    def tags(self) -> list[str] | None: ...
    @property
    def days_past_due(self) -> int: ...
    @property
    def state(self) -> str | None: ...
    @property
    def time_barred(self) -> bool: ...


@dataclass(frozen=True)
class PlanReport:
    enrolled: int = 0
    planned: int = 0
    completed: int = 0
    skipped_lock: bool = False


def segment_matches(segment: Segment, account: SegmentFacts) -> bool:
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
    batch: int = CHUNK,
) -> int:
    """Enroll open accounts that are in no campaign yet in the first matching one by priority."""
    ordered = sorted(
        (c for c in campaigns.values() if c.auto_enroll and rows[c.name].status == "active"),
        key=lambda c: (c.priority, c.name),
    )
    if not ordered:
        return 0
    a, e = _ACCOUNTS, _ENROLLMENTS
    first_due = {c.name: now + timedelta(days=c.steps[0].day) for c in ordered}
    statement = insert_ignoring_duplicates(session, e).returning(e.c.id)
    total, last_id = 0, 0
    while True:
        accounts = session.execute(
            select(a.c.id, a.c.debtor_id, a.c.balance, a.c.tags, a.c.days_past_due, a.c.state)
            .add_columns(a.c.time_barred)
            .where(
                a.c.status == "open",
                a.c.id > last_id,
                ~exists().where(e.c.account_id == a.c.id),
            )
            .order_by(a.c.id)
            .limit(batch)
        ).all()
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
                    "next_due_at": first_due[campaign.name],
                }
            )
        if values:
            total += len(session.execute(statement, values).all())


def plan_due_steps(
    session: Session,
    campaigns: Mapping[str, Campaign],
    now: datetime,
    batch: int = CHUNK,
) -> tuple[int, int]:
    """Create message rows for every step due by `now`; returns (planned, completed)."""
    names = {r.id: r.name for r in session.scalars(select(CampaignRow))}
    e = _ENROLLMENTS
    statement = insert_ignoring_duplicates(session, _MESSAGES).returning(_MESSAGES.c.id)
    planned = completed = 0
    last_id = 0
    while True:
        enrollments = session.execute(
            select(e.c.id, e.c.campaign_id, e.c.debtor_id, e.c.account_id, e.c.enrolled_at)
            .add_columns(e.c.next_step)
            .where(e.c.status == "active", e.c.next_due_at <= now, e.c.id > last_id)
            .order_by(e.c.id)
            .limit(batch)
        ).all()
        if not enrollments:
            return planned, completed
        last_id = enrollments[-1].id
        values: list[dict[str, Any]] = []
        stopped: list[int] = []
        # (next step, status, next due) -> enrollment ids: one UPDATE per group.
        moves: dict[tuple[int, str, datetime | None], list[int]] = defaultdict(list)
        for enrollment in enrollments:
            name = names[enrollment.campaign_id]
            campaign = campaigns.get(name)
            if campaign is None:  # the campaign file was removed: stop, say why
                stopped.append(enrollment.id)
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
            if index >= len(steps):
                moves[(index, "completed", None)].append(enrollment.id)
                completed += 1
            else:
                next_due = enrollment.enrolled_at + timedelta(days=steps[index].day)
                moves[(index, "active", next_due)].append(enrollment.id)
        if values:
            ids = session.execute(statement, values).scalars().all()
            planned += len(ids)
            record_events(
                session,
                (Transition(i, None, MessageState.PLANNED, "planner") for i in ids),
                now,
            )
        if stopped:
            session.execute(
                update(e)
                .where(among(session.connection(), e.c.id, stopped))
                .values(status="stopped", stop_reason="campaign file removed", next_due_at=None)
            )
        _move(session, moves)


def _move(session: Session, moves: Mapping[tuple[int, str, datetime | None], list[int]]) -> None:
    """Set next_step, status, next_due_at: a large group (enrolled in one tick) in one UPDATE
    ... WHERE id IN (= ANY on PostgreSQL), the scattered rest in one executemany by id."""
    e = _ENROLLMENTS
    scattered: list[dict[str, Any]] = []
    for (index, status, next_due), ids in moves.items():
        if len(ids) < 50:
            scattered.extend(
                {"eid": i, "next_step": index, "status": status, "next_due_at": next_due}
                for i in ids
            )
            continue
        session.execute(
            update(e)
            .where(among(session.connection(), e.c.id, ids))
            .values(next_step=index, status=status, next_due_at=next_due)
        )
    if scattered:
        session.execute(update(e).where(e.c.id == bindparam("eid")), scattered)


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
        enrolled = enroll(session, campaigns, rows, now, CHUNK)
        planned, completed = plan_due_steps(session, campaigns, now, CHUNK)
    return PlanReport(enrolled=enrolled, planned=planned, completed=completed)
