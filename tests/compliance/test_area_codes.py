"""The multi-zone area code table, row by row, and the phone lookup that uses it (F2).

A number whose exchange phonenumbers does not know must get every zone of its area code's row;
an exchange phonenumbers knows keeps its own zone; every other number keeps phonenumbers'
answer. Each row must name real zones that differ in local time and fit the row's region.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from phonenumbers import timezone as phone_timezone
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

from outreach.compliance import phone_zones, zip_table
from outreach.compliance.phone_zones import AreaCode, area_code_zones, zones_for_phone

ROWS = sorted(phone_zones.load().values(), key=lambda row: row.npa)
CANADA = {"AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"}
CENTRAL, EASTERN = "America/Chicago", "America/New_York"

# Zones the current ZIP data misplaces: the check fails for this reason only.
ZIP_DATA_GAPS = {
    ("775", "America/Denver"): "zipcodes puts West Wendover (89883) in America/Los_Angeles; "
    "it has kept Mountain time officially since 1999",
}


def rows(*, canada: bool | None = None) -> list[AreaCode]:
    return [r for r in ROWS if canada is None or (set(r.region) <= CANADA) == canada]


def by_npa(selected: list[AreaCode]) -> list[pytest.ParameterSet]:
    return [pytest.param(row, id=row.npa) for row in selected]


def longest_key(digits: str) -> str:
    """The longest prefix of `digits` that phonenumbers has zones for ("" when none)."""
    for length in range(min(len(digits), TIMEZONE_LONGEST_PREFIX), 0, -1):
        if digits[:length] in TIMEZONE_DATA:
            return digits[:length]
    return ""


def valid_numbers(npa: str, *, known_exchange: bool) -> Iterator[str]:
    """E.164 numbers of the area code, one per NXX 200-999, that phonenumbers calls valid and
    whose exchange it knows (a key longer than the area code's) or does not."""
    for nxx in range(200, 1000):
        number = f"+1{npa}{nxx}4567"
        if (len(longest_key(number[1:])) > 4) != known_exchange:
            continue
        if phonenumbers.is_valid_number(phonenumbers.parse(number)):
            yield number


# Area codes with at least one exchange (or NXX block) phonenumbers maps on its own.
KNOWN_EXCHANGES = {key[1:4] for key in TIMEZONE_DATA if key.startswith("1") and len(key) > 4}


@cache
def zip_zones_by_state() -> dict[str, set[str]]:
    """Every zone of each state's ZIPs; the zone field may list several, comma-separated."""
    zones: dict[str, set[str]] = {}
    for zone_field, state, _county in zip_table.load().as_dict().values():
        zones.setdefault(state, set()).update(z for z in zone_field.split(",") if z)
    return zones


def unofficial_zones(note: str) -> set[str]:
    """Zones named in the note's clauses that call the observance unofficial."""
    clauses = (c for c in re.split(r"[;.] ", note) if "unofficial" in c)
    return {z for c in clauses for z in re.findall(r"\b(?:America|Pacific)/[A-Za-z_/-]+", c)}


@cache
def zone_tab_countries() -> dict[str, set[str]]:
    """zone.tab's country codes per zone, from the first tz directory that has it."""
    for directory in zoneinfo.TZPATH:
        path = Path(directory) / "zone.tab"
        if path.exists():
            found: dict[str, set[str]] = {}
            for line in path.read_text(encoding="utf-8").splitlines():
                if line and not line.startswith("#"):
                    country, _coordinates, zone = line.split("\t")[:3]
                    found.setdefault(zone, set()).add(country)
            return found
    pytest.skip("no zone.tab on this machine's TZPATH")


@pytest.mark.parametrize("row", by_npa(ROWS))
def test_an_exchange_phonenumbers_does_not_know_gets_every_zone_of_the_row(
    row: AreaCode,
) -> None:
    number = next(valid_numbers(row.npa, known_exchange=False), None)
    if number is None:
        pytest.skip(
            f"phonenumbers maps every valid NXX of {row.npa} by exchange or NXX block "
            f"(e.g. 12083 -> America/Denver for 208-3xx): its answers stand, the row is unused"
        )
    assert zones_for_phone(number) == row.zones
    national = phonenumbers.format_number(
        phonenumbers.parse(number), phonenumbers.PhoneNumberFormat.NATIONAL
    )
    assert zones_for_phone(national, "CA" if set(row.region) <= CANADA else "US") == row.zones


@pytest.mark.parametrize("row", by_npa(ROWS))
def test_a_row_names_real_sorted_zones_that_keep_different_times(row: AreaCode) -> None:
    assert len(row.zones) >= 2
    assert list(row.zones) == sorted(set(row.zones))
    for zone in row.zones:
        ZoneInfo(zone)  # raises for a name that is not an IANA zone here
    assert area_code_zones(row.npa) == row.zones
    # The reason for the row: at some time of the year its zones do not all agree.
    instants = [datetime(2027, month, 15, 12, tzinfo=UTC) for month in (1, 4, 7, 10)]
    offsets = {tuple(i.astimezone(ZoneInfo(z)).utcoffset() for i in instants) for z in row.zones}
    assert len(offsets) >= 2, f"{row.npa}: all its zones keep the same time"


@pytest.mark.parametrize("row", by_npa(rows(canada=False)))
def test_a_us_row_names_zones_of_its_states_zips_or_a_noted_unofficial_zone(
    row: AreaCode,
) -> None:
    state_zones = set().union(*(zip_zones_by_state().get(s, set()) for s in row.region))
    assert state_zones, f"{row.npa}: no ZIP of {row.region}"
    unexplained = set(row.zones) - state_zones - unofficial_zones(row.note)
    gaps = {z: ZIP_DATA_GAPS[row.npa, z] for z in unexplained if (row.npa, z) in ZIP_DATA_GAPS}
    assert unexplained <= set(gaps), f"{row.npa}: {sorted(unexplained)} not in {row.region}"
    if gaps:
        pytest.xfail("; ".join(gaps.values()))


@pytest.mark.parametrize("row", by_npa(rows(canada=True)))
def test_a_canadian_row_names_zones_of_canada(row: AreaCode) -> None:
    countries = zone_tab_countries()
    assert [z for z in row.zones if "CA" not in countries.get(z, set())] == []


@pytest.mark.parametrize("row", by_npa([r for r in ROWS if r.npa in KNOWN_EXCHANGES]))
def test_an_exchange_phonenumbers_knows_keeps_its_own_zones(row: AreaCode) -> None:
    numbers = list(valid_numbers(row.npa, known_exchange=True))
    assert numbers, f"phonenumbers knows exchanges of {row.npa} but none is valid"
    for number in numbers[:: max(1, len(numbers) // 20)]:  # a spread of them
        zones = TIMEZONE_DATA[longest_key(number[1:])]
        expected = () if len(zones) > phone_zones.MAX_PHONE_ZONES else tuple(sorted(zones))
        assert zones_for_phone(number) == expected, number


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("+12704441234", (CENTRAL,)),  # 270-444, Paducah: phonenumbers knows it is Central
        ("+12083431234", ("America/Denver",)),  # 208-343, Boise
        ("+12086641234", ("America/Los_Angeles",)),  # 208-664, Coeur d'Alene
    ],
)
def test_known_exchanges_of_split_codes_keep_their_single_zone(
    phone: str, expected: tuple[str, ...]
) -> None:
    assert zones_for_phone(phone) == expected


@pytest.mark.parametrize("phone", ["+13642001234", "+14482001234", "+19302001234"])
def test_overlays_of_split_codes_give_eastern_and_central(phone: str) -> None:
    """The issue: 364, 448 and 930 numbers got only America/New_York."""
    zones = zones_for_phone(phone)
    assert CENTRAL in zones and EASTERN in zones


def test_a_928_number_with_an_unknown_exchange_gives_arizona_and_navajo_time() -> None:
    assert zones_for_phone("+19282001234") == ("America/Denver", "America/Phoenix")


@pytest.mark.parametrize(
    "phone", ["+18005551234", "(888) 555-1234", "+15555555555", "call me", "", "+1270"]
)
def test_toll_free_and_invalid_numbers_are_still_no_evidence(phone: str) -> None:
    assert zones_for_phone(phone) == ()


@pytest.mark.parametrize(
    ("phone", "region"),
    [
        ("+12125551234", "US"),  # one zone, not in the table
        ("(415) 555-0123", "US"),
        ("+14165550123", "CA"),
        ("+442079460000", "US"),  # London fixed line
        ("+447911123456", "US"),  # UK mobile: country-level zones
        ("+976136234567", "US"),  # Mongolia: two zones
        ("+79123456789", "US"),  # Russian mobile: the whole country, too many zones
        ("+61298765432", "US"),
    ],
)
def test_numbers_outside_the_table_keep_phonenumbers_answer(phone: str, region: str) -> None:
    raw = [
        z
        for z in phone_timezone.time_zones_for_number(phonenumbers.parse(phone, region))
        if z != "Etc/Unknown"
    ]
    expected = () if len(raw) > phone_zones.MAX_PHONE_ZONES else tuple(sorted(raw))
    assert zones_for_phone(phone, region) == expected


def test_area_code_zones_is_none_for_a_code_that_keeps_one_time() -> None:
    assert area_code_zones("212") is None
    assert area_code_zones("270") == (CENTRAL, EASTERN)


def test_a_malformed_table_is_refused(tmp_path: Path) -> None:
    table = tmp_path / "area_codes.tsv"
    table.write_text("# header\n270\tAmerica/Chicago,America/New_York\tKY\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"area_codes\.tsv:2"):
        phone_zones.load(table)
    table.write_text("27\tAmerica/Chicago,America/New_York\tKY\tnote\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad or repeated area code"):
        phone_zones.load(table)
