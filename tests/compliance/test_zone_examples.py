"""The audit of `compliance explain` (issue 12): every failure let a contact out that should
have waited, because a candidate zone was missing. Each example is a decision here, and each
would have been ALLOW (or an earlier not_before) with the zone missing."""

from __future__ import annotations

from datetime import datetime

import pytest

from outreach.compliance import AccountSnapshot, Attempt, DebtorSnapshot, Verdict, evaluate
from tests.compliance.common import SHIPPED, utc

# (name, now, debtor, texted phone, expected not_before (None: allowed now), zone that decides)
EXAMPLES: list[tuple[str, datetime, DebtorSnapshot, str | None, datetime | None, str]] = [
    (
        "Kentucky ZIP 42701 with a 364 phone, 07:30 Central in summer",
        utc(2026, 7, 14, 12, 30),
        DebtorSnapshot(state="KY", zip="42701", phones=("+13642001234",)),
        "+13642001234",
        utc(2026, 7, 14, 13),
        "America/Chicago",
    ),
    (
        "448 (Florida Panhandle overlay): Central too",
        utc(2026, 7, 14, 12, 30),
        DebtorSnapshot(),
        "+14482001234",
        utc(2026, 7, 14, 13),
        "America/Chicago",
    ),
    (
        "930 (southern Indiana overlay): Central too",
        utc(2026, 7, 14, 12, 30),
        DebtorSnapshot(),
        "+19302001234",
        utc(2026, 7, 14, 13),
        "America/Chicago",
    ),
    (
        "Arizona without a ZIP: Phoenix, 07:30 in summer, though the Navajo Nation is 08:30",
        utc(2026, 7, 14, 14, 30),
        DebtorSnapshot(state="AZ"),
        None,
        utc(2026, 7, 14, 15),
        "America/Phoenix",
    ),
    (
        "Arizona without a ZIP: the Navajo Nation, 21:05 in summer",
        utc(2026, 7, 15, 3, 5),
        DebtorSnapshot(state="AZ"),
        None,
        utc(2026, 7, 15, 15),
        "America/Denver",
    ),
    (
        "Page 86040: Arizona time, 07:30 in summer (zipcodes said Denver)",
        utc(2026, 7, 14, 14, 30),
        DebtorSnapshot(state="AZ", zip="86040"),
        None,
        utc(2026, 7, 14, 15),
        "America/Phoenix",
    ),
    (
        "Flagstaff 86003: Arizona time, 07:30 in summer (zipcodes said Denver)",
        utc(2026, 7, 14, 14, 30),
        DebtorSnapshot(state="AZ", zip="86003"),
        None,
        utc(2026, 7, 14, 15),
        "America/Phoenix",
    ),
    (
        "Tuba City 86045: Navajo Nation daylight time, 21:05 (zipcodes said Phoenix)",
        utc(2026, 7, 15, 3, 5),
        DebtorSnapshot(state="AZ", zip="86045"),
        None,
        utc(2026, 7, 15, 15),
        "America/Denver",
    ),
    (
        "West Wendover 89883: Mountain, 21:05 in winter (zipcodes said Pacific: 20:05)",
        utc(2026, 12, 2, 4, 5),
        DebtorSnapshot(state="NV", zip="89883"),
        None,
        utc(2026, 12, 2, 15),
        "America/Denver",
    ),
    (
        "West Wendover 89883: 08:30 Mountain is allowed (Pacific would wait until 16:00Z)",
        utc(2026, 12, 2, 15, 30),
        DebtorSnapshot(state="NV", zip="89883"),
        None,
        None,
        "America/Denver",
    ),
    (
        "the texted phone counts though not on file: Los Angeles ZIP, New York number, 21:30",
        utc(2026, 12, 2, 2, 30),
        DebtorSnapshot(state="CA", zip="90012"),
        "+12125551234",
        utc(2026, 12, 2, 16),
        "America/New_York",
    ),
]


@pytest.mark.parametrize(
    ("now", "debtor", "to", "not_before", "zone"),
    [e[1:] for e in EXAMPLES],
    ids=[e[0] for e in EXAMPLES],
)
def test_the_audits_examples_wait_for_every_candidate_zone(
    now: datetime,
    debtor: DebtorSnapshot,
    to: str | None,
    not_before: datetime | None,
    zone: str,
) -> None:
    attempt = Attempt("sms", to=to) if to else Attempt("email", to="pat@example.com")
    decision = evaluate(attempt, debtor, AccountSnapshot(id=1), (), SHIPPED, now)
    assert zone in decision.zones
    if not_before is None:
        assert decision.verdict is Verdict.ALLOW, decision.reasons
    else:
        assert decision.verdict is Verdict.DEFER, decision.reasons
        assert decision.not_before == not_before, decision.reasons
