"""The shipped ZIP table is the `zipcodes` package's data, every ZIP of it: the engine reads
the table (fast) instead of the package (seconds per process), so it must never drift."""

from __future__ import annotations

from outreach.compliance import zip_table


def test_the_shipped_table_equals_what_zipcodes_gives() -> None:
    shipped = zip_table.load()
    assert shipped.as_dict() == zip_table.from_zipcodes(), (
        "the zipcodes data changed: run `python -m outreach.compliance.zip_table`"
    )


def test_a_lookup_finds_a_zip_and_nothing_for_an_unknown_one() -> None:
    table = zip_table.load()
    assert table.get("19103") == ("America/New_York", "PA", "Philadelphia County")
    assert table.get("00000") is None
    assert table.get("99999") is None
    assert table.get(table.zips[0]) is not None and table.get(table.zips[-1]) is not None
