"""Properties of the schedule and the engine over random instants, zones and stated times:
an allowed instant is inside the window in every candidate zone, and `not_before` is the
earliest such instant at minute resolution (one minute earlier is not allowed)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import phonenumbers
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from phonenumbers.tzdata import TIMEZONE_DATA

from outreach.compliance import (
    AccountSnapshot,
    Attempt,
    DebtorSnapshot,
    InconvenientTime,
    Verdict,
    candidate_zones,
    evaluate,
    zip_table,
)
from outreach.compliance.places import places
from outreach.compliance.timezones import zones_for_phone, zones_for_zip
from outreach.compliance.window import Schedule, clock, earliest_allowed, is_inside
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


# Random debtors drawn from the real tables: any ZIP the table knows, any US area code
# phonenumbers knows (so split codes and overlays with unknown exchanges come up), states
# with and without a ZIP, a stated zone now and then, and a texted phone the record may lack.
ALL_ZIPS = zip_table.load().zips
US_AREA_CODES = sorted(
    {
        key[1:4]
        for key in TIMEZONE_DATA
        if key.startswith("1")
        and len(key) >= 4
        and phonenumbers.region_code_for_number(phonenumbers.parse(f"+{key[:4]}2001234")) == "US"
    }
)
phones = st.builds(
    lambda npa, nxx, line: f"+1{npa}{nxx}{line:04d}",
    st.sampled_from(US_AREA_CODES),
    st.integers(200, 999),
    st.integers(0, 9999),
)
debtors = st.builds(
    DebtorSnapshot,
    state=st.none() | st.sampled_from(["AZ", "KY", "IN", "FL", "TN", "ID", "ND", "NV", "TX", "NY"]),
    zip=st.none() | st.sampled_from(ALL_ZIPS),
    timezone=st.none() | st.none() | st.none() | st.sampled_from(US_ZONES),
    phones=st.lists(phones, max_size=2).map(tuple),
)


def _allowed_everywhere(at: datetime, zones: tuple[str, ...], start: time, end: time) -> bool:
    """Checked from first principles: the local time and date in each zone, zoneinfo's."""
    for zone in zones:
        local = at.astimezone(ZoneInfo(zone))
        if not start <= local.time() < end or local.date() in US_HOLIDAYS:
            return False
    return True


US_HOLIDAYS = holidays.country_holidays("US", years=range(2025, 2029))


@settings(max_examples=400, deadline=None)
@given(
    now=nows,
    debtor=debtors,
    to=phones,
    channel=st.sampled_from(["sms", "call", "email", "letter"]),
)
def test_no_contact_outside_the_window_in_any_candidate_zone(
    now: datetime, debtor: DebtorSnapshot, to: str, channel: str
) -> None:
    """F2: a deferral's not_before, and an allowed now, are inside the window (and not on a
    holiday) on the local clock of every candidate zone: the ZIP's (geography), the state's,
    every phone's (split area codes), the texted phone's."""
    policy = SHIPPED.model_copy(update={"holidays": True})
    phone = channel in ("sms", "call")
    address = to if phone else ("a@example.com" if channel == "email" else None)
    decision = evaluate(
        Attempt(channel, to=address), debtor, AccountSnapshot(id=1), (), policy, now
    )
    assume(decision.verdict is not Verdict.BLOCK)
    rules = policy.rules_for(channel, places(debtor.state, debtor.zip))
    window = rules.narrowed or rules.window
    if window is None:  # letters: no contact hours, so no zones to weigh
        assert decision.verdict is Verdict.ALLOW and decision.zones == ()
        return
    zones = candidate_zones(debtor, to=address)
    assert decision.zones == zones
    if not debtor.timezone:
        evidence = set(zones_for_zip(debtor.zip) if debtor.zip else ())
        for number in (*debtor.phones, *([to] if phone else [])):
            evidence.update(zones_for_phone(number))
        # each zone of the evidence, or one keeping the same clock, is weighed
        assert {clock(z) for z in evidence} <= {clock(z) for z in zones}
    at = decision.not_before or now
    assert at >= now
    assert _allowed_everywhere(at, zones, window.start, window.end), (at, zones, decision.reasons)
