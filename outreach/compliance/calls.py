"""F8 (12 CFR 1006.14(b)(2)): per debt, at most 7 calls placed in 7 consecutive days, and
none for 7 days after a telephone conversation, the conversation's day being day 1.

Days are the consumer's local calendar days. With several candidate zones the rule must
hold in each, so the release is the latest over the zones. Every recorded call counts as
placed, a conversation too; both come from the `calls` table (agents record them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from outreach.compliance.local_dates import day_start
from outreach.compliance.policy import CallRules
from outreach.compliance.types import Contact
from outreach.compliance.window import zone_info


def call_release(
    now: datetime,
    account_id: int | None,
    history: Sequence[Contact],
    zones: Sequence[str],
    limits: CallRules,
) -> tuple[datetime | None, list[str]]:
    """The earliest instant F8 allows another call on the account (None: now), and why."""
    calls = [c for c in history if c.channel == "call" and c.account_id == account_id]
    if not calls:
        return None, []
    release: datetime | None = None
    reasons: dict[str, str] = {}
    for zone in zones:
        tz = zone_info(zone)
        today = now.astimezone(tz).date()
        days = sorted(_aware(c.at).astimezone(tz).date() for c in calls)
        talks = [_aware(c.at).astimezone(tz).date() for c in calls if c.kind == "conversation"]
        quiet = limits.quiet_days_after_conversation
        if talks and quiet and max(talks) + timedelta(days=quiet) > today:
            talked = max(talks)
            free = day_start(talked + timedelta(days=quiet), (zone,))
            if release is None or free > release:
                release = free
            resume = talked + timedelta(days=quiet)
            reasons["conversation"] = (
                f"A conversation on {talked:%Y-%m-%d} ({zone}) starts {quiet} days without "
                f"calls on this account; calls may resume {resume:%Y-%m-%d}."
            )
        first_free = _first_free_day(today, days, limits)
        if first_free > today:
            free = day_start(first_free, (zone,))
            if release is None or free > release:
                release = free
            reasons["attempts"] = (
                f"{limits.max_attempts} calls already placed on this account within "
                f"{limits.days} consecutive days ({zone}); the next may be placed on "
                f"{first_free:%Y-%m-%d}."
            )
    if release is None or release <= now:
        return None, []
    return release, list(reasons.values())


def _first_free_day(today: date, days: Sequence[date], limits: CallRules) -> date:
    """The first day >= today whose `limits.days`-day period ending that day has room."""
    day = today
    span = timedelta(days=limits.days - 1)
    while sum(1 for d in days if day - span <= d <= day) >= limits.max_attempts:
        day += timedelta(days=1)
    return day


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at
