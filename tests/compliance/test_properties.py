"""Properties of the schedule and the engine over random instants, zones and stated times:
an allowed instant is inside the window in every candidate zone, and `not_before` is the
earliest such instant at minute resolution (one minute earlier is not allowed)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from outreach.compliance import (
    AccountSnapshot,
    Attempt,
    DebtorSnapshot,
    InconvenientTime,
    Verdict,
    evaluate,
)
from outreach.compliance.window import Schedule, earliest_allowed, is_inside
from tests.compliance.common import SHIPPED, utc

US_ZONES = [
    "America/Adak",
    "America/Anchorage",
    "America/Boise",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/New_York",
    "America/Phoenix",
    "Pacific/Honolulu",
]
DST_DAYS = [utc(2026, 3, 8), utc(2026, 11, 1), utc(2027, 3, 14), utc(2027, 11, 7)]
HOLIDAYS = [utc(2026, 11, 26), utc(2026, 12, 25), utc(2027, 1, 1), utc(2026, 7, 3)]

nows = st.one_of(
    st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC)),
    st.builds(
        lambda day, minutes: day + timedelta(minutes=minutes),
        st.sampled_from(DST_DAYS + HOLIDAYS),
        st.integers(-36 * 60, 36 * 60),
    ),
)
hhmm = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
stated = st.builds(
    InconvenientTime,
    hhmm,
    hhmm,
    st.none() | st.frozensets(st.integers(0, 6), min_size=1, max_size=5),
    st.none() | st.sampled_from(["sms", "email"]),
).filter(lambda b: b.start != b.end)
schedules = st.builds(
    Schedule,
    st.sampled_from([time(8), time(9), time(2, 30)]),
    st.sampled_from([time(21), time(20), time(23)]),
    st.booleans(),
    st.lists(stated, max_size=2).map(lambda items: tuple(b for b in items if b.channel is None)),
)


@settings(max_examples=150, deadline=None)
@given(
    now=nows,
    zones=st.lists(st.sampled_from(US_ZONES), min_size=1, max_size=3, unique=True),
    schedule=schedules,
)
def test_earliest_allowed_with_stated_times_and_holidays(
    now: datetime, zones: list[str], schedule: Schedule
) -> None:
    try:
        got = earliest_allowed(now, zones, schedule)
    except ValueError:
        assume(False)
        raise
    assert got >= now
    assert is_inside(got, zones, schedule)
    if got == now:
        return
    assert got.second == got.microsecond == 0
    assert not is_inside(now, zones, schedule)
    minute = max(now.replace(second=0, microsecond=0), got - timedelta(hours=24))
    while minute < got:
        if minute >= now:
            assert not is_inside(minute, zones, schedule), minute
        minute += timedelta(minutes=1)


ZIPS = [None, "10001", "60601", "80202", "90012", "96813", "99501", "83702", "85004"]
PHONES = ["+12125551234", "+12083431234", "+12086641234", "+19075551234", "+18085551234"]


@settings(max_examples=200, deadline=None)
@given(
    now=nows,
    zip_code=st.sampled_from(ZIPS),
    phones=st.lists(st.sampled_from(PHONES), max_size=2, unique=True),
    blocked=st.lists(stated, max_size=2),
    channel=st.sampled_from(["sms", "email"]),
)
def test_engine_not_before_is_the_first_allowed_minute(
    now: datetime,
    zip_code: str | None,
    phones: list[str],
    blocked: list[InconvenientTime],
    channel: str,
) -> None:
    policy = SHIPPED.model_copy(update={"holidays": True})
    debtor = DebtorSnapshot(
        state="IL", zip=zip_code, phones=tuple(phones), inconvenient_times=tuple(blocked)
    )
    attempt = Attempt(channel, to="+13125550143" if channel == "sms" else "a@example.com")
    account = AccountSnapshot(id=1, state="IL")
    decision = evaluate(attempt, debtor, account, (), policy, now)
    assume(decision.verdict is not Verdict.BLOCK)
    window = policy.contact_window.default
    own = tuple(b for b in blocked if b.channel in (None, channel))
    schedule = Schedule(window.start, window.end, True, own)
    allowed_at = decision.not_before or now
    assert is_inside(allowed_at, decision.zones, schedule)
    if decision.verdict is Verdict.DEFER:
        assert decision.not_before is not None and decision.not_before > now
        earlier = decision.not_before - timedelta(minutes=1)
        if earlier >= now:
            again = evaluate(attempt, debtor, account, (), policy, earlier)
            assert again.verdict is Verdict.DEFER
            assert again.not_before == decision.not_before
