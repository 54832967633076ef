"""The contact window across candidate zones (F1, F2): is now convenient, and if not, when?

The set of instants inside [start, end) local time in every zone is an intersection of
intervals, so its earliest point at or after `now` is `now` itself or the beginning of some
zone's interval: a window start (either fold, on a fall-back day) or a DST transition that
jumps local time into the window (a start inside a spring-forward gap). We test those
candidates in ascending order; no minute-by-minute scan, and zoneinfo keeps DST right.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import islice
from zoneinfo import ZoneInfo

from outreach.compliance.policy import Window

HORIZON = timedelta(days=8)
_DAY = timedelta(days=1)


def is_inside(instant: datetime, zones: Sequence[str], window: Window) -> bool:
    """True if `instant` is inside [start, end) local time in every zone."""
    _require_aware(instant)
    start, end = window.start, window.end
    for name in zones:
        local = instant.astimezone(zone_info(name)).time()
        if not start <= local < end:
            return False
    return True


def earliest_allowed(now: datetime, zones: Sequence[str], window: Window) -> datetime:
    """`now` if it is inside the window in every zone, else the earliest UTC instant that is.

    Raises ValueError when no instant within HORIZON (8 days) is inside in every zone: the
    zones are so far apart that their windows never overlap.
    """
    _require_aware(now)
    if not zones:
        raise ValueError("earliest_allowed needs at least one zone")
    now = now.astimezone(UTC)
    if is_inside(now, zones, window):
        return now
    limit = now + HORIZON
    streams = []
    for name in zones:
        starts = _candidates(name, now.astimezone(zone_info(name)).date(), window.start)
        streams.append(islice(starts, bisect_right(starts, now), None))
    for candidate in heapq.merge(*streams):
        if candidate > limit:
            break
        if is_inside(candidate, zones, window):
            return candidate
    raise ValueError(
        f"the {window.start:%H:%M}-{window.end:%H:%M} windows of {', '.join(zones)} never "
        f"overlap within {HORIZON.days} days of {now:%Y-%m-%d %H:%M} UTC: no time is "
        "convenient in every zone"
    )


@lru_cache(maxsize=256)
def zone_info(name: str) -> ZoneInfo:
    """A cached ZoneInfo (ZoneInfo's own cache is keyed weakly and can be dropped)."""
    return ZoneInfo(name)


@lru_cache(maxsize=16384)
def _candidates(name: str, local_day: date, start: time) -> tuple[datetime, ...]:
    """Sorted UTC instants where the zone's inside-interval may begin, around `local_day`.

    Window starts (both folds: a fall-back day has two 01:30s) on the local days from the
    day before to HORIZON + 1 after, and the zone's DST transitions over the same span.
    """
    zone = zone_info(name)
    found: set[datetime] = set()
    for offset in range(-1, HORIZON.days + 2):
        wall = datetime.combine(local_day + offset * _DAY, start, tzinfo=zone)
        found.add(wall.astimezone(UTC))
        found.add(wall.replace(fold=1).astimezone(UTC))
    for offset in range(-2, HORIZON.days + 3):
        transition = _transition(name, local_day + offset * _DAY)
        if transition is not None:
            found.add(transition)
    return tuple(sorted(found))


@lru_cache(maxsize=65536)
def _transition(name: str, utc_day: date) -> datetime | None:
    """The instant the zone's UTC offset changes during a UTC day (at most one assumed)."""
    zone = zone_info(name)
    midnight = datetime.combine(utc_day, datetime.min.time(), tzinfo=UTC)
    before = midnight.astimezone(zone).utcoffset()
    if (midnight + _DAY).astimezone(zone).utcoffset() == before:
        return None
    low, high = 0, 86_400  # seconds after midnight: offset(low) == before != offset(high)
    while high - low > 1:
        middle = (low + high) // 2
        if (midnight + timedelta(seconds=middle)).astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return midnight + timedelta(seconds=high)


def _require_aware(instant: datetime) -> None:
    if instant.tzinfo is None:
        raise ValueError(f"{instant.isoformat()} is naive: compliance needs aware datetimes")
