"""The consumer's calendar: dates as they are where the consumer may be, never UTC dates.

Rules that count days (the validation period, a dispute's timing, a promise's due date,
F8's seven days, holidays) read the date on the consumer's calendar. At 21:00 in New York
it is already tomorrow in UTC; with several candidate zones each has its own date, and
every function here settles the choice in the consumer's favour, saying which way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from outreach.compliance.validation import validation_period_end
from outreach.compliance.window import zone_info


def local_date(instant: datetime, zone: str) -> date:
    return instant.astimezone(zone_info(zone)).date()


def local_today(now: datetime, zones: Sequence[str]) -> date:
    """The consumer's date; with several zones the westernmost (the last to change), so
    "today" and "tomorrow" in a message or a reply are never a day early anywhere."""
    if not zones:
        return now.astimezone(UTC).date()
    return min(local_date(now, zone) for zone in zones)


def day_start(day: date, zones: Sequence[str]) -> datetime:
    """The earliest UTC instant at which the local date is `day` or later in every zone."""
    return max(
        datetime.combine(day, time(0), tzinfo=zone_info(name)).astimezone(UTC) for name in zones
    )


@dataclass(frozen=True, slots=True)
class DisputeTiming:
    """How a dispute stands against the validation period, in the zone most favourable to
    the consumer (the one leaving the most days between the dispute and the period's end)."""

    within: bool
    disputed_on: date
    period_ends: date
    zone: str


def dispute_timing(sent_at: datetime, disputed_at: datetime, zones: Sequence[str]) -> DisputeTiming:
    """Was the dispute within the validation period (F15)? Both dates local: the notice's
    sending date starts the period, the dispute's date is the consumer's. Timely in any
    candidate zone counts as timely: the consumer may be there."""
    best: DisputeTiming | None = None
    for zone in zones or ("UTC",):
        ends = validation_period_end(local_date(sent_at, zone))
        day = local_date(disputed_at, zone)
        if best is None or (ends - day) > (best.period_ends - best.disputed_on):
            best = DisputeTiming(day <= ends, day, ends, zone)
    assert best is not None
    return best
