"""The one rule of every CSV outreach writes: what a spreadsheet could run gets a leading `'`,
everything else is written as it is (the exports themselves are tested where they are served:
tests/web/console/test_log.py, tests/channels/test_letter.py)."""

from __future__ import annotations

import csv
import io

import pytest

from outreach.csv_export import SafeWriter, safe_cell


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+2", "'=1+2"),
        ("+15551234567", "'+15551234567"),  # OWASP: no exception for phone numbers...
        ("-12.50", "'-12.50"),  # ...nor for negative amounts
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        (" \u3000=1", "' \u3000=1"),  # behind any whitespace, ideographic space included
        ("Maria Lopez", "Maria Lopez"),
        ("a=b", "a=b"),  # a sign inside a cell starts nothing
        ("'=1", "'=1"),  # already text to a spreadsheet
        ("   ", "   "),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_safe_cell(value: object, written: str) -> None:
    assert safe_cell(value) == written


def test_every_cell_is_quoted_so_no_separator_starts_a_new_one() -> None:
    out = io.StringIO()
    SafeWriter(out, lineterminator="\n").writerow(["D1", 'x;=HYPERLINK("a")', None, 3])
    assert out.getvalue() == '"D1","x;=HYPERLINK(""a"")","","3"\n'
    assert next(csv.reader(io.StringIO(out.getvalue()))) == ["D1", 'x;=HYPERLINK("a")', "", "3"]
