from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from outreach.compliance.policy import Window
from outreach.compliance.window import earliest_allowed, is_inside

NY = "America/New_York"
AK = "America/Anchorage"
HI = "Pacific/Honolulu"
F1 = Window()


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# (name, now, zones, window, expected earliest allowed instant)
ROWS: list[tuple[str, datetime, tuple[str, ...], Window, datetime]] = [
    ("inside NY", utc(2026, 11, 24, 15, 0), (NY,), F1, utc(2026, 11, 24, 15, 0)),
    ("07:59 NY", utc(2026, 11, 24, 12, 59), (NY,), F1, utc(2026, 11, 24, 13, 0)),
    ("20:59 NY is inside", utc(2026, 11, 25, 1, 59), (NY,), F1, utc(2026, 11, 25, 1, 59)),
    ("21:00 NY is outside", utc(2026, 11, 25, 2, 0), (NY,), F1, utc(2026, 11, 25, 13, 0)),
    ("seconds kept", utc(2026, 11, 24, 15, 0, 7), (NY,), F1, utc(2026, 11, 24, 15, 0, 7)),
    ("Hawaii winter", utc(2026, 1, 15, 17, 0), (HI,), F1, utc(2026, 1, 15, 18, 0)),
    ("Hawaii summer, no DST", utc(2026, 7, 1, 17, 0), (HI,), F1, utc(2026, 7, 1, 18, 0)),
    ("NY + Anchorage", utc(2026, 11, 24, 14, 0), (NY, AK), F1, utc(2026, 11, 24, 17, 0)),
    ("NY + Anchorage overlap", utc(2026, 11, 25, 1, 30), (AK, NY), F1, utc(2026, 11, 25, 1, 30)),
    ("NY closed, AK open", utc(2026, 11, 25, 2, 0), (AK, NY), F1, utc(2026, 11, 25, 17, 0)),
    # 2026-03-08 spring forward: 08:00 is EDT (12:00Z); the day before, EST (13:00Z).
    ("day before spring forward", utc(2026, 3, 7, 6, 0), (NY,), F1, utc(2026, 3, 7, 13, 0)),
    ("spring forward day", utc(2026, 3, 8, 6, 0), (NY,), F1, utc(2026, 3, 8, 12, 0)),
    # 2026-11-01 fall back: 08:00 is EST (13:00Z); the day before, EDT (12:00Z).
    ("day before fall back", utc(2026, 10, 31, 6, 0), (NY,), F1, utc(2026, 10, 31, 12, 0)),
    ("fall back day", utc(2026, 11, 1, 6, 0), (NY,), F1, utc(2026, 11, 1, 13, 0)),
    # Window edges inside DST changes: a start in the gap opens at the transition (03:00 EDT);
    # a start in the fold opens at its first occurrence; the fold re-enters an ending window.
    ("start in gap", utc(2026, 3, 8, 5, 0), (NY,), Window(start=time(2, 30)), utc(2026, 3, 8, 7)),
    (
        "start in fold",
        utc(2026, 11, 1, 4),
        (NY,),
        Window(start=time(1, 30)),
        utc(2026, 11, 1, 5, 30),
    ),
    (
        "fold re-enters window",
        utc(2026, 11, 1, 5, 45),
        (NY,),
        Window(start=time(0, 0), end=time(1, 30)),
        utc(2026, 11, 1, 6, 0),
    ),
    (
        "aware non-UTC now",
        datetime(2026, 11, 24, 7, 0, tzinfo=ZoneInfo(NY)),
        (NY,),
        F1,
        utc(2026, 11, 24, 13, 0),
    ),
]


@pytest.mark.parametrize(
    ("now", "zones", "window", "expected"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS]
)
def test_earliest_allowed(
    now: datetime, zones: tuple[str, ...], window: Window, expected: datetime
) -> None:
    got = earliest_allowed(now, zones, window)
    assert got == expected
    assert got.utcoffset() == timedelta(0)
    assert is_inside(got, zones, window)


INSIDE_ROWS: list[tuple[datetime, tuple[str, ...], bool]] = [
    (utc(2026, 11, 24, 13, 0), (NY,), True),
    (utc(2026, 11, 24, 12, 59, 59), (NY,), False),
    (utc(2026, 11, 25, 2, 0), (NY,), False),
    (utc(2026, 11, 24, 16, 0), (NY, AK), False),
    (utc(2026, 11, 24, 18, 0), (NY, AK, HI), True),
]


@pytest.mark.parametrize(("instant", "zones", "expected"), INSIDE_ROWS)
def test_is_inside(instant: datetime, zones: tuple[str, ...], expected: bool) -> None:
    assert is_inside(instant, zones, F1) is expected


@pytest.mark.parametrize(
    ("now", "zones", "message"),
    [
        (utc(2026, 11, 24, 12), (NY, "Asia/Tokyo"), "never overlap"),
        (utc(2026, 11, 24, 12), (), "at least one zone"),
        (datetime(2026, 11, 24, 12), (NY,), "naive"),
    ],
)
def test_earliest_allowed_errors(now: datetime, zones: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        earliest_allowed(now, zones, Window(start=time(9), end=time(17)))


US_ZONES = [
    "America/Adak",
    "America/Anchorage",
    "America/Boise",
    "America/Chicago",
    "America/Denver",
    "America/Detroit",
    "America/Los_Angeles",
    "America/New_York",
    "America/Phoenix",
    "America/Puerto_Rico",
    "Pacific/Guam",
    "Pacific/Honolulu",
]
WINDOWS = [F1, Window(start=time(2, 30)), Window(start=time(1, 30), end=time(23, 0))]
DST_DAYS = [utc(2026, 3, 8), utc(2026, 11, 1), utc(2027, 3, 14), utc(2027, 11, 7)]

nows = st.one_of(
    st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC)),
    st.builds(
        lambda day, minutes: day + timedelta(minutes=minutes),
        st.sampled_from(DST_DAYS),
        st.integers(-24 * 60, 24 * 60),
    ),
)


@settings(max_examples=150, deadline=None)
@given(
    now=nows,
    zones=st.lists(st.sampled_from(US_ZONES), min_size=1, max_size=4, unique=True),
    window=st.sampled_from(WINDOWS),
)
@example(now=utc(2026, 3, 8, 6, 30), zones=[NY, AK], window=WINDOWS[1])
@example(now=utc(2026, 11, 1, 5, 0), zones=[NY], window=WINDOWS[2])
def test_earliest_allowed_is_the_first_inside_minute(
    now: datetime, zones: list[str], window: Window
) -> None:
    try:
        got = earliest_allowed(now, zones, window)
    except ValueError:
        assume(False)
        raise
    assert got >= now
    assert is_inside(got, zones, window)
    if got == now:
        return
    assert got.second == got.microsecond == 0
    assert not is_inside(now, zones, window)
    minute = max(now.replace(second=0, microsecond=0), got - timedelta(hours=24))
    while minute < got:
        if minute >= now:
            assert not is_inside(minute, zones, window), minute
        minute += timedelta(minutes=1)
