from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from outreach.compliance.caps import cap_decision
from outreach.compliance.policy import FrequencyCap
from outreach.compliance.types import Contact

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
SMS_WEEKLY = FrequencyCap(id="sms-weekly", channels=["sms"], max=3, days=7)
ALL_WEEKLY = FrequencyCap(id="all-weekly", channels=[], max=5, days=7)
ELECTRONIC_DAILY = FrequencyCap(id="electronic-daily", channels=["sms", "email"], max=1, days=1)
NYC_ACCOUNT = FrequencyCap(id="nyc", channels=[], max=3, days=7, per="account")


def ago(days: float, channel: str = "sms", account_id: int | None = 1) -> Contact:
    return Contact(at=NOW - timedelta(days=days), channel=channel, account_id=account_id)


# (name, channel, account_id, history, caps, expected release, expected cap ids in reasons)
ROWS: list[
    tuple[str, str, int | None, list[Contact], list[FrequencyCap], datetime | None, list[str]]
] = [
    ("no history", "sms", 1, [], [SMS_WEEKLY], None, []),
    ("below the cap", "sms", 1, [ago(1), ago(2)], [SMS_WEEKLY], None, []),
    (
        "sms cap full: oldest ages out",
        "sms",
        1,
        [ago(1), ago(6), ago(3)],
        [SMS_WEEKLY],
        NOW + timedelta(days=1),
        ["sms-weekly"],
    ),
    (
        "over the cap: the (count - max + 1)-th oldest must age out",
        "sms",
        1,
        [ago(6), ago(5), ago(4), ago(2), ago(1)],
        [SMS_WEEKLY],
        NOW + timedelta(days=3),
        ["sms-weekly"],
    ),
    (
        "exactly `days` old no longer counts",
        "sms",
        1,
        [ago(7), ago(3), ago(1)],
        [SMS_WEEKLY],
        None,
        [],
    ),
    (
        "other channels do not count toward an sms cap",
        "sms",
        1,
        [ago(1, "email"), ago(2, "email"), ago(3, "email"), ago(4)],
        [SMS_WEEKLY],
        None,
        [],
    ),
    (
        "cap for sms does not apply to email",
        "email",
        1,
        [ago(1), ago(2), ago(3)],
        [SMS_WEEKLY],
        None,
        [],
    ),
    (
        "overall cap counts every channel",
        "letter",
        1,
        [ago(1), ago(2, "email"), ago(3, "letter"), ago(4, "call"), ago(6.5, "email")],
        [SMS_WEEKLY, ALL_WEEKLY],
        NOW + timedelta(days=0.5),
        ["all-weekly"],
    ),
    (
        "two caps full: the later release wins",
        "email",
        1,
        [ago(0.25, "sms"), ago(1, "email"), ago(2), ago(3), ago(5, "email")],
        [ELECTRONIC_DAILY, ALL_WEEKLY],
        NOW + timedelta(days=2),
        ["electronic-daily", "all-weekly"],
    ),
    (
        "per account: other accounts do not count",
        "sms",
        1,
        [ago(1, account_id=2), ago(2, account_id=2), ago(3, account_id=2), ago(4, account_id=1)],
        [NYC_ACCOUNT],
        None,
        [],
    ),
    (
        "per account: this account is full",
        "email",
        2,
        [ago(1, account_id=2), ago(2, "email", 2), ago(3, account_id=2), ago(4, account_id=1)],
        [NYC_ACCOUNT],
        NOW + timedelta(days=4),
        ["nyc"],
    ),
    (
        "naive timestamps are read as UTC",
        "sms",
        1,
        [
            Contact(at=(NOW - timedelta(days=d)).replace(tzinfo=None), channel="sms")
            for d in (1, 2, 3)
        ],
        [SMS_WEEKLY],
        NOW + timedelta(days=4),
        ["sms-weekly"],
    ),
]


@pytest.mark.parametrize(
    ("channel", "account_id", "history", "caps", "release", "cap_ids"),
    [r[1:] for r in ROWS],
    ids=[r[0] for r in ROWS],
)
def test_cap_decision(
    channel: str,
    account_id: int | None,
    history: list[Contact],
    caps: list[FrequencyCap],
    release: datetime | None,
    cap_ids: list[str],
) -> None:
    got, reasons = cap_decision(NOW, channel, account_id, history, caps)
    assert got == release
    assert len(reasons) == len(cap_ids)
    for cap_id, reason in zip(cap_ids, reasons, strict=True):
        assert f"'{cap_id}'" in reason
    if release is not None:
        # The cap really has room at the release instant and not a second before.
        assert cap_decision(release, channel, account_id, history, caps)[0] is None
        before = release - timedelta(seconds=1)
        assert cap_decision(before, channel, account_id, history, caps)[0] is not None


def test_reason_is_readable() -> None:
    _, reasons = cap_decision(NOW, "sms", 7, [ago(1), ago(2), ago(3)], [SMS_WEEKLY])
    assert reasons == [
        "Frequency cap 'sms-weekly' reached: 3 sms contacts in the last 7 days (at most 3); "
        "room again 2026-11-28 15:00 UTC."
    ]
