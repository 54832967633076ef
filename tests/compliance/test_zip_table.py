"""The shipped ZIP table: zones from geography (timezonefinder's boundary polygons, every
zone within the margin of the ZIP's point), the override table, and the `zipcodes` state and
county. The engine reads the table (fast) instead of its sources (seconds per process), so a
rebuild must give the same table."""

from __future__ import annotations

import pytest

from outreach.compliance import zip_table
from outreach.compliance.timezones import is_zone, zones_for_state, zones_for_zip

PHOENIX, DENVER = "America/Phoenix", "America/Denver"
CHICAGO, NY = "America/Chicago", "America/New_York"


def test_the_shipped_table_equals_a_rebuild_from_its_sources() -> None:
    shipped = zip_table.load()
    assert shipped.as_dict() == zip_table.build(), (
        "zipcodes, timezonefinder or zone_overrides.tsv changed: run "
        "`python -m outreach.compliance.zip_table`"
    )


def test_a_lookup_finds_a_zip_and_nothing_for_an_unknown_one() -> None:
    table = zip_table.load()
    assert table.get("19103") == (NY, "PA", "Philadelphia County")
    assert table.get("00000") is None
    assert table.get("99999") is None
    assert table.get(table.zips[0]) is not None and table.get(table.zips[-1]) is not None


@pytest.mark.parametrize(
    ("zip_code", "expected", "why"),
    [
        # zipcodes labels these wrongly; the audit's examples
        ("86040", (DENVER, PHOENIX), "Page: Arizona time, and LeChee (Navajo Nation) beside it"),
        ("86003", (PHOENIX,), "Flagstaff: Arizona time (zipcodes says Denver)"),
        ("86045", (DENVER, PHOENIX), "Tuba City: Navajo Nation; Moenkopi (Hopi) beside it"),
        ("89883", (DENVER,), "West Wendover: Mountain by law since 1999 (zipcodes: Pacific)"),
        # a ZIP whose area straddles the line gets both
        ("32465", (CHICAGO, NY), "Wewahitchka, Gulf County FL: the county is split"),
        ("37338", (CHICAGO, NY), "Graysville TN, on the Rhea/Bledsoe line"),
        # far from any line: one zone
        ("10001", (NY,), "New York"),
        ("42701", (NY,), "Elizabethtown KY, 30 km east of the Central line"),
        ("83702", ("America/Boise",), "Boise"),
        ("48201", ("America/Detroit",), "Detroit: Windsor, across the river, is not a US zone"),
        # military post offices say nothing of where the consumer is
        ("09001", (), "APO AE"),
    ],
)
def test_zip_zones_come_from_geography(zip_code: str, expected: tuple[str, ...], why: str) -> None:
    assert zones_for_zip(zip_code) == expected, why


def test_the_point_zone_is_first_and_margin_zones_follow_sorted() -> None:
    for zones, _, _ in zip_table.load().as_dict().values():
        names = zones.split(",") if zones else []
        assert len(set(names)) == len(names)
        assert names[1:] == sorted(names[1:])


OVERRIDES = sorted(zip_table.overrides().values(), key=lambda o: o.zip)


@pytest.mark.parametrize("row", OVERRIDES, ids=[o.zip for o in OVERRIDES])
def test_each_override_is_what_the_table_ships(row: zip_table.Override) -> None:
    record = zip_table.load().get(row.zip)
    assert record is not None, f"{row.zip} is not a ZIP"
    assert record[0] == ",".join(row.zones)
    assert all(is_zone(z) for z in row.zones) and len(set(row.zones)) == len(row.zones)
    assert row.note.strip()


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("AZ", (DENVER, PHOENIX)),  # the Navajo Nation keeps daylight time
        ("Arizona", (DENVER, PHOENIX)),
        ("ID", ("America/Boise", "America/Los_Angeles")),
        ("FL", (CHICAGO, NY)),
        ("OK", (CHICAGO, DENVER)),  # Kenton keeps Mountain time
        ("NY", (NY,)),
        ("GA", (NY,)),  # a margin reaching Alabama does not make Georgia Central
        ("XX", ()),
    ],
)
def test_a_states_zones_are_the_zones_kept_at_its_zips(
    state: str, expected: tuple[str, ...]
) -> None:
    assert zones_for_state(state) == expected
