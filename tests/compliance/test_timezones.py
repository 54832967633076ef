from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

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


# Numbers whose validity or zone turns on the 6th or 7th digit: Barbados (246-521x), Jamaica
# (876-6060), the split Idaho exchanges, an area code phonenumbers maps to two zones.
@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"\+1[2-9][0-9]{9}", fullmatch=True))
@example("+12465213123")
@example("+12465211123")
@example("+18766060123")
@example("+18766061123")
@example(BOISE_PHONE)
@example(NORTH_IDAHO_PHONE)
@example(ALASKA_PHONE)
@example(TOLL_FREE)
def test_an_e164_numbers_zones_are_the_full_lookups(number: str) -> None:
    """E.164 NANP numbers are looked up by their first 7 digits (one lookup per 1,000
    numbers): the answer is the one phonenumbers gives for the whole number, typed out."""
    typed = f"({number[2:5]}) {number[5:8]}-{number[8:]}"  # not E.164: the whole lookup
    assert zones_for_phone(number) == zones_for_phone(typed)


def test_nanp_metadata_looks_no_deeper_than_seven_digits() -> None:
    """Guards the premise of the 7-digit lookup against a phonenumbers upgrade: the zone
    data for +1 is keyed by at most 6 digits after the 1, and every validity pattern of
    every +1 region leaves the last 3 digits free (each alternative ends in \\d{3} or more)."""
    from phonenumbers import PhoneMetadata
    from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE
    from phonenumbers.tzdata import TIMEZONE_DATA

    assert max(len(key) for key in TIMEZONE_DATA if key.startswith("1")) <= 7
    free_tail = re.compile(r"\\d\{(?:[3-9]|\d\d)(?:,\d*)?\}$")
    for region in COUNTRY_CODE_TO_REGION_CODE[1]:
        metadata = PhoneMetadata.metadata_for_region(region)
        for desc in (
            metadata.general_desc, metadata.fixed_line, metadata.mobile, metadata.toll_free,
            metadata.premium_rate, metadata.shared_cost, metadata.personal_number,
            metadata.voip, metadata.pager, metadata.uan, metadata.voicemail,
        ):  # fmt: skip
            pattern = desc.national_number_pattern if desc is not None else None
            for alternative in _top_level_alternatives(pattern or ""):
                assert free_tail.search(alternative), (region, alternative)


def _top_level_alternatives(pattern: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(pattern):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
    return [*parts, pattern[start:]] if pattern else []


def test_other_addresses_add_their_zones() -> None:
    debtor = DebtorSnapshot(state="CA", zip="90012", other_zips=("10001", "00000"))
    assert candidate_zones(debtor) == (LA, NY)  # an unknown ZIP adds nothing
    stated = DebtorSnapshot(zip="90012", other_zips=("10001",), timezone="America/Chicago")
    assert candidate_zones(stated) == ("America/Chicago",)
