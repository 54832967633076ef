"""The contact window across candidate zones (F1, F2, F3, holidays): is now convenient, and if
not, when?

A `Schedule` says which local times of a local day are allowed: the window [start, end),
minus US federal holidays (when the policy says so) and minus the consumer's stated
inconvenient times. The set of instants allowed in every zone is an intersection of
intervals, so its earliest point at or after `now` is `now` itself or the beginning of some
zone's interval: an interval start (either fold, on a fall-back day) or a DST transition that
jumps local time into an interval (a start inside a spring-forward gap). We test those
candidates in ascending order; no minute-by-minute scan, and zoneinfo keeps DST right.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import islice
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from outreach.compliance.policy import Window
from outreach.compliance.types import InconvenientTime
from outreach.compliance.validation import is_federal_holiday

_DAY_SECONDS = 86_400


@dataclass(frozen=True, slots=True)
class Schedule:
    """Allowed local times: [start, end) each day, minus holidays and stated inconvenient times."""

    start: time = time(8, 0)
    end: time = time(21, 0)
    holidays: bool = False
    blocked: tuple[InconvenientTime, ...] = ()

    @classmethod
    def of(cls, window: Window | Schedule) -> Schedule:
        return window if isinstance(window, Schedule) else _from_window(window)

    @property
    def simple(self) -> bool:
        """Just the window: no holidays, no stated times (the fast path)."""
        return not self.holidays and not self.blocked

    def intervals(self, day: date) -> tuple[tuple[int, int], ...]:
        """Allowed [from, to) seconds after local midnight on `day`, ascending."""
        return _intervals(self, day)


@lru_cache(maxsize=64)
def _from_window(window: Window) -> Schedule:
    return Schedule(window.start, window.end)


HORIZON = timedelta(days=8)
_DAY = timedelta(days=1)


def is_inside(instant: datetime, zones: Sequence[str], window: Window | Schedule) -> bool:
    """True if `instant` is allowed by the schedule (or window) in every zone."""
    _require_aware(instant)
    return _inside(instant, zones, Schedule.of(window))


def _inside(instant: datetime, zones: Sequence[str], schedule: Schedule) -> bool:
    if schedule.simple:
        start, end = schedule.start, schedule.end
        return all(start <= instant.astimezone(zone_info(name)).time() < end for name in zones)
    for name in zones:
        local = instant.astimezone(zone_info(name))
        second = local.hour * 3600 + local.minute * 60 + local.second
        if not any(a <= second < b for a, b in _intervals(schedule, local.date())):
            return False
    return True


def earliest_allowed(now: datetime, zones: Sequence[str], window: Window | Schedule) -> datetime:
    """`now` if it is allowed in every zone, else the earliest UTC instant that is.

    Raises ValueError when no instant within HORIZON (8 days) is allowed in every zone: the
    zones are so far apart that their windows never overlap, or stated times leave no room.
    """
    _require_aware(now)
    if not zones:
        raise ValueError("earliest_allowed needs at least one zone")
    schedule = Schedule.of(window)
    now = now.astimezone(UTC)
    if _inside(now, zones, schedule):
        return now
    limit = now + HORIZON
    streams = []
    for name in zones:
        starts = _candidates(name, now.astimezone(zone_info(name)).date(), schedule)
        streams.append(islice(starts, bisect_right(starts, now), None))
    for candidate in heapq.merge(*streams) if len(streams) > 1 else streams[0]:
        if candidate > limit:
            break
        if _inside(candidate, zones, schedule):
            return candidate
    span = f"the {schedule.start:%H:%M}-{schedule.end:%H:%M} windows of {', '.join(zones)}"
    if not schedule.simple:
        span = f"{span}, less holidays and stated inconvenient times,"
    raise ValueError(
        f"{span} never overlap within {HORIZON.days} days of {now:%Y-%m-%d %H:%M} UTC: no "
        "time is convenient in every zone"
    )


@lru_cache(maxsize=256)
def zone_info(name: str) -> ZoneInfo:
    """A cached ZoneInfo (ZoneInfo's own cache is keyed weakly and can be dropped)."""
    return ZoneInfo(name)


@lru_cache(maxsize=256)
def clock(name: str) -> int:
    """An id of the zone's clock: its UTC offset every 6 hours over this year and the next.
    Zones with one id keep the same time (and dates) on every day a decision can reach,
    whatever their names (America/Kentucky/Louisville and America/New_York). About 1 ms a
    zone, once; the id is a small int, cheap to compare."""
    zone = zone_info(name)
    start = datetime(datetime.now(UTC).year, 1, 1, tzinfo=UTC)
    offsets = tuple((start + k * _SAMPLE).astimezone(zone).utcoffset() for k in range(_SAMPLES))
    return _CLOCKS.setdefault(offsets, len(_CLOCKS))


_SAMPLE = timedelta(hours=6)
_SAMPLES = 4 * 731
_CLOCKS: dict[tuple[timedelta | None, ...], int] = {}


@lru_cache(maxsize=1024)
def is_zone(name: str) -> bool:
    """True for a zone name zoneinfo can load (the data tables hold a few that are not)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@lru_cache(maxsize=16384)
def _intervals(schedule: Schedule, day: date) -> tuple[tuple[int, int], ...]:
    if schedule.holidays and is_federal_holiday(day):
        return ()
    free = [(_seconds(schedule.start), _seconds(schedule.end))]
    for blocked in schedule.blocked:
        for low, high in _blocked_on(blocked, day):
            free = [
                piece
                for a, b in free
                for piece in ((a, min(b, low)), (max(a, high), b))
                if piece[0] < piece[1]
            ]
    return tuple(free)


def _blocked_on(blocked: InconvenientTime, day: date) -> Iterator[tuple[int, int]]:
    """The seconds of `day` a stated time covers (a time past midnight covers two days)."""
    low, high = _seconds(blocked.start), _seconds(blocked.end)
    days = blocked.days
    if low < high:
        if days is None or day.weekday() in days:
            yield low, high
        return
    if days is None or day.weekday() in days:
        yield low, _DAY_SECONDS
    if high and (days is None or (day.weekday() - 1) % 7 in days):
        yield 0, high


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


@lru_cache(maxsize=16384)
def _candidates(name: str, local_day: date, schedule: Schedule) -> tuple[datetime, ...]:
    """Sorted UTC instants where the zone's allowed intervals may begin, around `local_day`.

    Interval starts (both folds: a fall-back day has two 01:30s) on the local days from the
    day before to HORIZON + 1 after, and the zone's DST transitions over the same span.
    """
    zone = zone_info(name)
    found: set[datetime] = set()
    for offset in range(-1, HORIZON.days + 2):
        day = local_day + offset * _DAY
        for start, _ in schedule.intervals(day):
            wall = datetime.combine(day, _time(start), tzinfo=zone)
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


def _time(seconds: int) -> time:
    return time(seconds // 3600, seconds // 60 % 60, seconds % 60)


def _require_aware(instant: datetime) -> None:
    if instant.tzinfo is None:
        raise ValueError(f"{instant.isoformat()} is naive: compliance needs aware datetimes")
