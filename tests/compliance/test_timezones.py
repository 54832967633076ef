from __future__ import annotations

import pytest

from outreach.compliance.timezones import FALLBACK_ZONES, candidate_zones, zones_for_phone
from outreach.compliance.types import DebtorSnapshot

NY = "America/New_York"
LA = "America/Los_Angeles"
DENVER = "America/Denver"
BOISE_PHONE = "+12083431234"  # 208-343: Boise exchange, Mountain time
NORTH_IDAHO_PHONE = "+12086641234"  # 208-664: Coeur d'Alene exchange, Pacific time
ALASKA_PHONE = "+19075551234"  # phonenumbers maps 907 to both Alaska zones
TOLL_FREE = "+18005551234"

# (name, debtor, expected zones)
ROWS: list[tuple[str, DebtorSnapshot, tuple[str, ...]]] = [
    ("NYC ZIP", DebtorSnapshot(zip="10001"), (NY,)),
    ("ZIP+4", DebtorSnapshot(zip="10001-1234"), (NY,)),
    ("Detroit ZIP keeps its own zone", DebtorSnapshot(zip="48201"), ("America/Detroit",)),
    ("Honolulu ZIP", DebtorSnapshot(zip="96813"), ("Pacific/Honolulu",)),
    (
        "NYC ZIP + Alaska phone",
        DebtorSnapshot(zip="10001", phones=(ALASKA_PHONE,)),
        ("America/Adak", "America/Anchorage", NY),
    ),
    ("Boise exchange", DebtorSnapshot(phones=(BOISE_PHONE,)), (DENVER,)),
    ("north Idaho exchange", DebtorSnapshot(phones=(NORTH_IDAHO_PHONE,)), (LA,)),
    ("state only: every zone of Idaho", DebtorSnapshot(state="ID"), ("America/Boise", LA)),
    (
        "Arizona without a ZIP: Phoenix and the Navajo Nation's daylight time",
        DebtorSnapshot(state="AZ"),
        (DENVER, "America/Phoenix"),
    ),
    ("ZIP replaces state", DebtorSnapshot(state="ID", zip="83702"), ("America/Boise",)),
    ("unknown ZIP falls back to state", DebtorSnapshot(state="NY", zip="00000"), (NY,)),
    ("malformed ZIP falls back to state", DebtorSnapshot(state="NY", zip="1000"), (NY,)),
    (
        "stated zone replaces all evidence",
        DebtorSnapshot(timezone="America/Chicago", zip="10001", phones=(ALASKA_PHONE,)),
        ("America/Chicago",),
    ),
    ("invalid stated zone is ignored", DebtorSnapshot(timezone="Mars/Base", zip="10001"), (NY,)),
    ("toll-free phone is no evidence", DebtorSnapshot(zip="10001", phones=(TOLL_FREE,)), (NY,)),
    ("only a toll-free phone", DebtorSnapshot(phones=(TOLL_FREE,)), FALLBACK_ZONES),
    ("invalid phone", DebtorSnapshot(phones=("+15555555555",)), FALLBACK_ZONES),
    ("unparsable phone", DebtorSnapshot(phones=("call me",)), FALLBACK_ZONES),
    ("unknown state", DebtorSnapshot(state="XX"), FALLBACK_ZONES),
    ("no evidence", DebtorSnapshot(), FALLBACK_ZONES),
    ("national-format phone", DebtorSnapshot(phones=("(212) 555-1234",)), (NY,)),
    (
        "duplicates merged and sorted",
        DebtorSnapshot(zip="83814", phones=(NORTH_IDAHO_PHONE, BOISE_PHONE)),
        (DENVER, LA),
    ),
]


@pytest.mark.parametrize(("debtor", "expected"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_candidate_zones(debtor: DebtorSnapshot, expected: tuple[str, ...]) -> None:
    assert candidate_zones(debtor) == expected


def test_fallback_is_sorted_and_covers_the_us() -> None:
    assert tuple(sorted(set(FALLBACK_ZONES))) == FALLBACK_ZONES
    assert {"America/New_York", "America/Anchorage", "Pacific/Honolulu"} <= set(FALLBACK_ZONES)


def test_toll_free_really_maps_to_many_zones() -> None:
    """Guards the premise: phonenumbers gives a toll-free number every zone of the plan."""
    import phonenumbers
    from phonenumbers import timezone

    assert len(timezone.time_zones_for_number(phonenumbers.parse(TOLL_FREE))) > 4
    assert zones_for_phone(TOLL_FREE) == ()


def test_the_phone_being_contacted_is_evidence_too() -> None:
    """A Los Angeles debtor texted on a New York number may be in New York (F2)."""
    debtor = DebtorSnapshot(zip="90012")
    assert candidate_zones(debtor) == (LA,)
    assert candidate_zones(debtor, to="+12125551234") == (LA, NY)
    assert candidate_zones(debtor, to="+18005551234") == (LA,)  # toll-free: no evidence
    assert candidate_zones(debtor, to="debtor@example.com") == (LA,)
    assert candidate_zones(DebtorSnapshot(), to="+12125551234") == (NY,)
    stated = DebtorSnapshot(zip="90012", timezone="America/Chicago")
    assert candidate_zones(stated, to="+12125551234") == ("America/Chicago",)


def test_zones_keeping_one_clock_count_once_under_the_best_known_name() -> None:
    """Indiana's ZIPs name eleven IANA zones but keep two clocks: a reason names those two."""
    assert candidate_zones(DebtorSnapshot(state="IN")) == ("America/Chicago", NY)
    assert candidate_zones(DebtorSnapshot(state="KY")) == ("America/Chicago", NY)
    louisville = DebtorSnapshot(zip="40202")  # alone, a zone keeps its own name
    assert candidate_zones(louisville) == ("America/Kentucky/Louisville",)
    assert candidate_zones(louisville, to="+12125551234") == (NY,)
    # Phoenix and Denver differ in summer: both stay
    assert candidate_zones(DebtorSnapshot(state="AZ")) == (DENVER, "America/Phoenix")
