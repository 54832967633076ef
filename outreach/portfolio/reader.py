"""Reading the file: encoding and CSV checks, the header, records with their physical line numbers,
batches."""

from __future__ import annotations

import codecs
import csv
import difflib
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from outreach.portfolio.cells import T
from outreach.portfolio.columns import COLUMNS, REQUIRED_COLUMNS
from outreach.portfolio.report import ImportFileError


def check_utf8(path: Path) -> None:
    """Decode the whole file once up front, so a bad byte at row 90,000 writes nothing."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    line += chunk.count(b"\n", 0, exc.start)
                    raise ImportFileError(
                        path,
                        f"not UTF-8 text: byte 0x{chunk[exc.start]:02x} on line {line};"
                        " save the file as UTF-8",
                    ) from None
                line += chunk.count(b"\n")
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ImportFileError(path, "not UTF-8 text: the file ends mid-character") from None
    except OSError as exc:
        raise ImportFileError(path, exc.strerror or str(exc)) from None


def check_csv(path: Path) -> None:
    """Parse the whole file once, so a CSV syntax error late in it writes nothing."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, strict=False)
        try:
            for _ in reader:
                pass
        except csv.Error as exc:
            raise ImportFileError(path, f"line {reader.line_num}: {exc}") from None


# Every column but the trailing blanks spreadsheets append must be a known one, once: a longer
# header is refused before any per-column work (a 100,000-column header took minutes).
MAX_HEADER_COLUMNS = 3 * len(COLUMNS)
MAX_HEADER_CHARS = 64 * MAX_HEADER_COLUMNS
_UNKNOWN_SHOWN = 10  # unknown columns named in the error; the rest are counted


def read_header(path: Path, reader: Iterator[list[str]]) -> list[str]:
    for record in reader:
        if any(cell.strip() for cell in record):
            break
    else:
        raise ImportFileError(path, "empty file: a header row is required")
    line = getattr(reader, "line_num", 1)
    while record and not record[-1].strip():  # spreadsheets append empty columns
        record.pop()
    if len(record) > MAX_HEADER_COLUMNS:
        raise ImportFileError(
            path,
            f"line {line}: the header has {len(record):,} columns, more than the"
            f" {MAX_HEADER_COLUMNS} read (a portfolio file has {len(COLUMNS)} at most)",
        )
    chars = sum(map(len, record))
    if chars > MAX_HEADER_CHARS:
        raise ImportFileError(
            path,
            f"line {line}: the header is {chars:,} characters long; at most {MAX_HEADER_CHARS:,}"
            " are read (column names are short words such as debtor_id)",
        )
    columns = [c.strip().lower().lstrip("\ufeff") for c in record]
    known = set(COLUMNS)
    if not known.intersection(columns):
        raise ImportFileError(
            path, f"no header row: the first row has none of the columns {', '.join(COLUMNS)}"
        )
    problems: list[str] = []
    dupes = sorted(c for c, n in Counter(columns).items() if n > 1)
    if dupes:
        problems.append(f"duplicate columns: {', '.join(dupes)}")
    unknown = [(n, c) for n, c in enumerate(columns, 1) if c not in known]
    if unknown:
        described = []
        for n, c in unknown[:_UNKNOWN_SHOWN]:
            close = difflib.get_close_matches(c, COLUMNS, n=1)
            if not c:
                described.append(f"a blank name (column {n})")
                continue
            described.append(f"{c!r} (did you mean {close[0]!r}?)" if close else repr(c))
        if len(unknown) > _UNKNOWN_SHOWN:
            described.append(f"and {len(unknown) - _UNKNOWN_SHOWN} more")
        problems.append(f"unknown columns: {', '.join(described)}")
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        problems.append(f"missing required columns: {', '.join(missing)}")
    if problems:
        raise ImportFileError(path, "bad header: " + "; ".join(problems))
    return columns


def numbered_records(reader: Any) -> Iterator[tuple[int, int, list[str]]]:
    """(first line, last line, record) for each non-blank record; quoted newlines counted."""
    start = reader.line_num + 1
    for record in reader:
        if any(cell.strip() for cell in record):
            yield start, reader.line_num, record
        start = reader.line_num + 1


def batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
