"""Every CSV outreach writes (the message-log export, the letters' print manifest) is opened in
a spreadsheet sooner or later, and its cells carry imported text (ids, names, addresses): each
cell is written so that a spreadsheet reads it as text, never as a formula (OWASP "CSV
Injection", CWE-1236).

- A cell whose first character is `=`, `+`, `-`, `@`, tab, carriage return or line feed (the
  OWASP list), or a full-width `＝ ＋ － ＠` (which some spreadsheets fold to the ASCII ones),
  gets a leading single quote. So does one whose first character after leading whitespace is
  one of those signs: spreadsheets that trim cells would see the formula otherwise.
- Every cell is quoted, so a spreadsheet that splits on `;` (the usual separator in locales
  with a decimal comma) cannot begin a new cell in the middle of one.

As OWASP advises, the rule has no exceptions: a phone number `+15551234567` is written
`'+15551234567` and an amount `-12.50` as `'-12.50` (text, not a number, in a spreadsheet).
Outreach's exports carry no signed amounts, and its phone numbers are masked (`****4567`).
Written here rather than with `defusedcsv`, which leaves tab, CR, LF and leading whitespace
alone and exempts numbers.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

# What a spreadsheet may take as the start of a formula (OWASP), and the full-width signs.
FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")


class _TextOut(Protocol):
    def write(self, s: str, /) -> Any: ...


def safe_cell(value: object) -> str:
    """The cell's text, with a leading `'` when a spreadsheet could read it as a formula."""
    if value is None:
        return ""
    text = str(value)
    if text and (text[0] in FORMULA_STARTS or text.lstrip()[:1] in FORMULA_STARTS):
        return "'" + text
    return text


class SafeWriter:
    """`csv.writer` whose every cell is quoted and passed through `safe_cell`."""

    def __init__(self, out: _TextOut, *, lineterminator: str = "\r\n") -> None:
        self._writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator=lineterminator)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([safe_cell(value) for value in row])
