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
from outreach.db.models import (
    CampaignRow,
    Message,
    MessageEvent,
)

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
