"""What the console pages and the API show, read in a few queries each: a debtor's record,
the inbox, and the campaign dashboard's daily counts."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from outreach.compliance.rules import title as rule_title
from outreach.masking import mask, mask_text
from outreach.models import (
    Account,
    CampaignRow,
    ContactPoint,
    Debtor,
    Enrollment,
    Hold,
    InboundMessage,
    Message,
    MessageEvent,
    Task,
)

# --- a debtor's record ----------------------------------------------------------------------


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


# --- the inbox ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxReply:
    id: int
    received_at: datetime
    channel: str
    from_address: str  # masked
    body: str  # long numbers masked
    intent: str | None
    action: str | None
    debtor_id: int | None
    debtor_name: str | None
    tasks: tuple[int, ...]  # open tasks raised by this reply


@dataclass(frozen=True)
class InboxTask:
    id: int
    created_at: datetime
    kind: str
    summary: str
    debtor_id: int | None
    debtor_name: str | None


@dataclass(frozen=True)
class Inbox:
    replies: list[InboxReply]
    tasks: list[InboxTask]  # open tasks not tied to a reply listed above


def inbox(session: Session, limit: int = 200) -> Inbox:
    """Replies that wait for a person, and open tasks, oldest first (first come, first served)."""
    names = Debtor.first_name + " " + Debtor.last_name
    replies = session.execute(
        select(InboundMessage, names)
        .outerjoin(Debtor, Debtor.id == InboundMessage.debtor_id)
        .where(InboundMessage.needs_agent.is_(True), InboundMessage.handled_at.is_(None))
        .order_by(InboundMessage.received_at, InboundMessage.id)
        .limit(limit)
    ).all()
    open_tasks = session.execute(
        select(Task, names)
        .outerjoin(Debtor, Debtor.id == Task.debtor_id)
        .where(Task.status == "open")
        .order_by(Task.created_at, Task.id)
        .limit(limit)
    ).all()
    by_inbound: dict[int, list[int]] = defaultdict(list)
    for task, _ in open_tasks:
        if task.inbound_id is not None:
            by_inbound[task.inbound_id].append(task.id)
    listed = {m.id for m, _ in replies}
    return Inbox(
        replies=[
            InboxReply(
                id=m.id,
                received_at=m.received_at,
                channel=m.channel,
                from_address=mask(m.from_address),
                body=mask_text(m.body),
                intent=m.intent,
                action=m.action,
                debtor_id=m.debtor_id,
                debtor_name=name,
                tasks=tuple(by_inbound.get(m.id, ())),
            )
            for m, name in replies
        ],
        tasks=[
            InboxTask(
                id=t.id,
                created_at=t.created_at,
                kind=t.kind,
                summary=mask_text(t.summary),
                debtor_id=t.debtor_id,
                debtor_name=name,
            )
            for t, name in open_tasks
            if t.inbound_id not in listed
        ],
    )


# --- the campaign dashboard -----------------------------------------------------------------

OUTCOMES = ("sent", "delivered", "deferred", "blocked", "failed")
# The transitions counted, by the outcome they mean (a message deferred twice then sent
# counts two deferrals and one send: the chart shows what happened each day).
_OUTCOME_OF = {
    "sent": "sent",
    "delivered": "delivered",
    "deferred": "deferred",
    "blocked": "blocked",
    "failed": "failed",
    "undelivered": "failed",
    "bounced": "failed",
}


@dataclass
class CampaignStats:
    name: str
    status: str
    days: list[date]
    # channel -> outcome -> one count per day
    series: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    totals: Counter[str] = field(default_factory=Counter)
    top_blocks: list[tuple[str, str, int]] = field(default_factory=list)  # rule, title, count

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "days": [d.isoformat() for d in self.days],
            "series": self.series,
            "totals": {o: self.totals.get(o, 0) for o in OUTCOMES},
            "top_blocks": [{"rule": r, "title": t, "count": c} for r, t, c in self.top_blocks],
        }


def _day(session: Session, column: Any) -> ColumnElement[str]:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column)  # SQLite keeps UTC text


def dashboard(session: Session, now: datetime, days: int) -> list[CampaignStats]:
    """Per campaign, per day (UTC) of the last `days`: transitions by channel and outcome,
    and the rules that blocked most."""
    first = now.date() - timedelta(days=days - 1)
    since = datetime.combine(first, time(0), tzinfo=now.tzinfo)
    day_list = [first + timedelta(days=i) for i in range(days)]
    index = {d.isoformat(): i for i, d in enumerate(day_list)}
    stats = {
        row.name: CampaignStats(row.name, row.status, day_list)
        for row in session.scalars(select(CampaignRow).order_by(CampaignRow.name))
    }
    day = _day(session, MessageEvent.at)
    counts = session.execute(
        select(Message.campaign, Message.channel, MessageEvent.to_state, day, func.count())
        .join(Message, Message.id == MessageEvent.message_id)
        .where(
            MessageEvent.at >= since,
            MessageEvent.to_state.in_(list(_OUTCOME_OF)),
            Message.campaign.is_not(None),
        )
        .group_by(Message.campaign, Message.channel, MessageEvent.to_state, day)
    )
    for campaign, channel, to_state, on, n in counts:
        entry = stats.get(campaign or "")
        if entry is None or on not in index:
            continue
        outcome = _OUTCOME_OF[to_state]
        per_outcome = entry.series.setdefault(channel, {o: [0] * days for o in OUTCOMES})
        per_outcome[outcome][index[on]] += n
        entry.totals[outcome] += n
    blocks: dict[str, Counter[str]] = defaultdict(Counter)
    for campaign, detail in session.execute(
        select(Message.campaign, MessageEvent.detail)
        .join(Message, Message.id == MessageEvent.message_id)
        .where(
            MessageEvent.at >= since,
            MessageEvent.to_state == "blocked",
            Message.campaign.is_not(None),
        )
    ):
        for rule in (detail or {}).get("rules") or ["(no rule recorded)"]:
            blocks[campaign][rule] += 1
    for campaign, counter in blocks.items():
        if campaign in stats:
            stats[campaign].top_blocks = [
                (rule, rule_title(rule), n) for rule, n in counter.most_common(5)
            ]
    return list(stats.values())
