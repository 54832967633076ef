from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

import pytest

from outreach.compliance import (
    AccountSnapshot,
    Attempt,
    Contact,
    ContactWindow,
    DebtorSnapshot,
    FrequencyCap,
    Policy,
    Verdict,
    Window,
    evaluate,
)

NY = "America/New_York"
LETTERS_FREE = ContactWindow(channels={"letter": None})
POLICY = Policy(
    contact_window=LETTERS_FREE,
    frequency_caps=[
        FrequencyCap(id="sms-weekly", channels=["sms"], max=3, days=7),
        FrequencyCap(id="all-weekly", max=5, days=7),
    ],
)
SMS = Attempt(channel="sms", to="+12125551234")
EMAIL = Attempt(channel="email", to="debtor@example.com")
LETTER = Attempt(channel="letter")
NYC = DebtorSnapshot(zip="10001")
ACCOUNT = AccountSnapshot(id=1)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def sms_days_before(now: datetime, *days: float) -> tuple[Contact, ...]:
    return tuple(Contact(at=now - timedelta(days=d), channel="sms", account_id=1) for d in days)


@dataclass(frozen=True)
class Row:
    name: str
    now: datetime
    verdict: Verdict
    not_before: datetime | None = None
    rules: tuple[str, ...] = ()
    attempt: Attempt = SMS
    debtor: DebtorSnapshot = NYC
    account: AccountSnapshot = ACCOUNT
    history: tuple[Contact, ...] = ()
    policy: Policy = POLICY
    zones: tuple[str, ...] | None = None
    expect_zones: tuple[str, ...] | None = None
    reasons: tuple[str, ...] = field(default=())  # substrings expected among the reasons


ROWS = [
    Row("inside the window", utc(2026, 11, 24, 15), Verdict.ALLOW, expect_zones=(NY,)),
    Row("07:00 in NYC", utc(2026, 11, 24, 12), Verdict.DEFER, utc(2026, 11, 24, 13), ("F1",)),
    Row(
        "Denver, readable reason",
        utc(2026, 11, 24, 13, 12),
        Verdict.DEFER,
        utc(2026, 11, 24, 15),
        ("F1",),
        attempt=Attempt(channel="sms", to="+13035551234"),  # a Denver phone
        debtor=DebtorSnapshot(zip="80202"),
        reasons=(
            "It is 06:12 in America/Denver (window 08:00-21:00); "
            "next allowed 2026-11-24 15:00 UTC.",
        ),
    ),
    Row(
        # 11:00 in NYC but 07:00 in Anchorage, 06:00 in Adak (phonenumbers gives 907 both):
        # wait for 08:00 in Adak, the last of the three to open.
        "NYC address + Alaska phone",
        utc(2026, 11, 24, 16),
        Verdict.DEFER,
        utc(2026, 11, 24, 18),
        ("F1", "F2"),
        debtor=DebtorSnapshot(zip="10001", phones=("+19075551234",)),
        expect_zones=("America/Adak", "America/Anchorage", NY),
        reasons=("It is 06:00 in America/Adak and 07:00 in America/Anchorage", "Location unclear"),
    ),
    Row(
        "208-343 Boise exchange: Mountain time",
        utc(2026, 11, 24, 14, 30),
        Verdict.DEFER,
        utc(2026, 11, 24, 15),
        ("F1",),
        attempt=Attempt(channel="sms", to="+12083431234"),
        debtor=DebtorSnapshot(phones=("+12083431234",)),
    ),
    Row(
        "208-664 north Idaho exchange: Pacific time",
        utc(2026, 11, 24, 14, 30),
        Verdict.DEFER,
        utc(2026, 11, 24, 16),
        ("F1",),
        attempt=Attempt(channel="sms", to="+12086641234"),
        debtor=DebtorSnapshot(phones=("+12086641234",)),
    ),
    Row(
        "both Idaho exchanges: Pacific decides, F2",
        utc(2026, 11, 24, 15, 30),
        Verdict.DEFER,
        utc(2026, 11, 24, 16),
        ("F1", "F2"),
        debtor=DebtorSnapshot(phones=("+12083431234", "+12086641234")),
    ),
    Row(
        "Idaho state only: both zones",
        utc(2026, 11, 24, 15, 30),
        Verdict.DEFER,
        utc(2026, 11, 24, 16),
        ("F1", "F2"),
        debtor=DebtorSnapshot(state="ID"),
    ),
    Row(
        "Detroit ZIP + NYC phone agree: no F2",
        utc(2026, 11, 24, 12),
        Verdict.DEFER,
        utc(2026, 11, 24, 13),
        ("F1",),
        debtor=DebtorSnapshot(zip="48201", phones=("+12125551234",)),
    ),
    Row(
        "Hawaii, summer (no DST)",
        utc(2026, 7, 1, 17, 30),
        Verdict.DEFER,
        utc(2026, 7, 1, 18),
        ("F1",),
        attempt=Attempt(channel="sms", to="+18085551234"),  # a Honolulu phone
        debtor=DebtorSnapshot(zip="96813"),
    ),
    Row(
        "spring forward: 08:00 EDT",
        utc(2026, 3, 8, 11),
        Verdict.DEFER,
        utc(2026, 3, 8, 12),
        ("F1",),
    ),
    Row("day before: 08:00 EST", utc(2026, 3, 7, 11), Verdict.DEFER, utc(2026, 3, 7, 13), ("F1",)),
    Row("fall back: 08:00 EST", utc(2026, 11, 1, 12), Verdict.DEFER, utc(2026, 11, 1, 13), ("F1",)),
    Row(
        "day before: 08:00 EDT",
        utc(2026, 10, 31, 11),
        Verdict.DEFER,
        utc(2026, 10, 31, 12),
        ("F1",),
    ),
    Row(
        "stated zone replaces ZIP and phone",
        utc(2026, 11, 24, 15),
        Verdict.DEFER,
        utc(2026, 11, 24, 16),
        ("F1",),
        debtor=DebtorSnapshot(
            zip="10001", phones=("+19075551234",), timezone="America/Los_Angeles"
        ),
        expect_zones=("America/Los_Angeles",),
    ),
    Row(
        "toll-free phone is no evidence",
        utc(2026, 11, 24, 15),
        Verdict.ALLOW,
        debtor=DebtorSnapshot(zip="10001", phones=("+18005551234",)),
        expect_zones=(NY,),
    ),
    Row(
        "precomputed zones are used as given",
        utc(2026, 11, 24, 13, 30),
        Verdict.DEFER,
        utc(2026, 11, 24, 14),
        ("F1",),
        zones=("America/Chicago",),
        expect_zones=("America/Chicago",),
    ),
    Row(
        "letter at 03:00 is exempt",
        utc(2026, 11, 24, 8),
        Verdict.ALLOW,
        attempt=LETTER,
        expect_zones=(),
    ),
    Row(
        "letter still windowed when the policy says so",
        utc(2026, 11, 24, 8),
        Verdict.DEFER,
        utc(2026, 11, 24, 13),
        ("F1",),
        attempt=LETTER,
        policy=Policy(),
    ),
    Row(
        "sms cap: release lands inside the window",
        utc(2026, 11, 24, 15),
        Verdict.DEFER,
        utc(2026, 11, 24, 18),
        ("F10",),
        history=sms_days_before(utc(2026, 11, 24, 15), 6.875, 3, 1),
        reasons=("'sms-weekly' reached",),
    ),
    Row(
        "sms cap: release at 22:00 NY moves to 08:00 next day",
        utc(2026, 11, 24, 15),
        Verdict.DEFER,
        utc(2026, 11, 25, 13),
        ("F10", "F1"),
        history=sms_days_before(utc(2026, 11, 24, 15), 6.5, 3, 1),
        reasons=(
            "At 2026-11-25 03:00 UTC, when the caps allow, it will be 22:00 in America/New_York",
        ),
    ),
    Row(
        "sms cap does not hold back email",
        utc(2026, 11, 24, 15),
        Verdict.ALLOW,
        attempt=EMAIL,
        history=sms_days_before(utc(2026, 11, 24, 15), 6, 3, 1),
    ),
    Row(
        "overall cap holds back a letter",
        utc(2026, 11, 24, 15),
        Verdict.DEFER,
        utc(2026, 11, 25, 15),
        ("F10",),
        attempt=LETTER,
        history=(
            *sms_days_before(utc(2026, 11, 24, 15), 6, 5, 4),
            Contact(utc(2026, 11, 23), "email", account_id=1),
            Contact(utc(2026, 11, 22), "letter", account_id=1),
        ),
    ),
    Row(
        "hold blocks, not defers, at night",
        utc(2026, 11, 24, 8),
        Verdict.BLOCK,
        rules=("F5",),
        debtor=DebtorSnapshot(zip="10001", holds=frozenset({"attorney"})),
    ),
    Row(
        "all hold rules listed",
        utc(2026, 11, 24, 15),
        Verdict.BLOCK,
        rules=("F6", "F17", "F7"),
        debtor=DebtorSnapshot(zip="10001", holds=frozenset({"cease", "opt_out:sms"})),
        account=AccountSnapshot(id=1, holds=frozenset({"dispute"})),
    ),
    Row(
        "cease still lets the acknowledgement through",
        utc(2026, 11, 24, 15),
        Verdict.ALLOW,
        attempt=Attempt("letter", kind="cease_ack"),
        debtor=DebtorSnapshot(zip="10001", holds=frozenset({"cease"})),
    ),
    Row(
        "windows that never overlap block",
        utc(2026, 11, 24, 15),
        Verdict.BLOCK,
        rules=("F1", "F2"),
        debtor=DebtorSnapshot(phones=("+12125551234", "+81312345678")),
        policy=Policy(contact_window=ContactWindow(default=Window(start=time(9), end=time(17)))),
        expect_zones=("America/New_York", "Asia/Tokyo"),
        reasons=("never overlap",),
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_evaluate(row: Row) -> None:
    decision = evaluate(
        row.attempt, row.debtor, row.account, row.history, row.policy, row.now, zones=row.zones
    )
    assert decision.verdict is row.verdict, decision.reasons
    assert decision.not_before == row.not_before
    if decision.not_before is not None:
        assert decision.not_before.utcoffset() == timedelta(0)
    assert decision.rules == row.rules
    if row.expect_zones is not None:
        assert decision.zones == row.expect_zones
    joined = " ".join(decision.reasons)
    for fragment in row.reasons:
        assert fragment in joined
    if decision.verdict is not Verdict.ALLOW:
        assert decision.reasons


def test_naive_now_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(SMS, NYC, AccountSnapshot(), (), POLICY, datetime(2026, 11, 24, 15))


def test_allowed_decision_serialises() -> None:
    decision = evaluate(SMS, NYC, AccountSnapshot(id=1), (), POLICY, utc(2026, 11, 24, 15))
    assert decision.allowed
    assert decision.to_dict() == {
        "verdict": "allow",
        "not_before": None,
        "rules": [],
        "reasons": [],
        "zones": [NY],
        "segments": None,
        "encoding": None,
    }
