"""Import debtors, accounts, contact points and holds from a CSV portfolio file (the columns
are documented in `outreach.portfolio.columns`).

A debtor with several accounts takes one row per account, repeating the debtor's
columns. The import is idempotent by debtor_id and account_id: a row that changes
nothing is counted `unchanged`. Imports only ever add: new contact points, new tags,
new holds (never a duplicate open hold of the same kind and scope); a blank optional
cell keeps what is stored. Consent only moves towards "revoked" (an opt-out recorded
since the last import is never undone by re-importing an old file).

Invalid rows are reported with their physical line number and skipped; the rest of
the file imports. Header, encoding and file-access problems raise `ImportFileError`
before anything is written.
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from outreach.clock import Clock
from outreach.db.models import ImportRun
from outreach.portfolio.columns import COLUMNS, REQUIRED_COLUMNS
from outreach.portfolio.reader import batches, check_csv, check_utf8, numbered_records, read_header
from outreach.portfolio.report import ImportFileError, ImportReport, RowError
from outreach.portfolio.rows import Row, RowParser
from outreach.portfolio.store import Batch

__all__ = [
    "COLUMNS",
    "REQUIRED_COLUMNS",
    "ImportFileError",
    "ImportReport",
    "RowError",
    "import_csv",
]


BATCH_SIZE = 500  # rows per transaction


def import_csv(
    factory: sessionmaker[Session],
    path: Path,
    *,
    clock: Clock,
    default_region: str = "US",
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a portfolio CSV (see the module docstring), BATCH_SIZE rows a transaction.

    `progress` is called with the number of data rows handled so far after each batch.
    Raises ImportFileError for a missing, unreadable, non-UTF-8 or header-less file.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(path, "no such file" if not path.exists() else "not a file")
    check_utf8(path)
    check_csv(path)
    started = clock.now()
    source = f"import:{path.name[-150:]}"  # fits the 200-character source columns
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    rejected: list[RowError] = []
    rows = 0
    # Within one file the first row for a debtor defines it; a later row that contradicts
    # it is an error (else re-importing the file would flip the debtor back and forth).
    first_debtor_row: dict[str, tuple[int, dict[str, Any]]] = {}
    first_account_row: dict[str, int] = {}

    try:
        fh = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ImportFileError(path, exc.strerror or str(exc)) from None
    with fh:
        reader = csv.reader(fh, strict=False)
        try:
            columns = read_header(path, reader)
        except csv.Error as exc:
            raise ImportFileError(path, f"unreadable header: {exc}") from None
        parser = RowParser(columns, default_region)
        with factory.begin() as session:
            run = ImportRun(file=str(path)[-500:], started_at=started)
            session.add(run)
        try:
            for batch in batches(numbered_records(reader), BATCH_SIZE):
                parsed: list[Row] = []
                for line, end, record in batch:
                    rows += 1
                    result = parser.parse(line, end, record)
                    if isinstance(result, list):
                        rejected.extend(result)
                        continue
                    conflict = _in_file_conflict(result, first_debtor_row, first_account_row)
                    if conflict is not None:
                        rejected.append(conflict)
                        continue
                    parsed.append(result)
                if parsed:
                    outcomes: list[str | RowError] = []
                    with factory.begin() as session:
                        plan = Batch(session, parsed, source, clock.now())
                        outcomes = [plan.apply(row) for row in parsed]
                        plan.write()
                    for outcome in outcomes:  # counted once committed
                        if isinstance(outcome, RowError):
                            rejected.append(outcome)
                        else:
                            counts[outcome] += 1
                if progress is not None:
                    progress(rows)
        except BaseException as exc:
            # Earlier batches are committed: say so in the run's record, then re-raise.
            partial = ImportReport(rows=rows, rejected=rejected, **counts)
            note = f"aborted after {rows} rows: {type(exc).__name__}: {exc}"
            with contextlib.suppress(Exception):
                _finish_run(factory, run.id, partial, note)
            raise

    rejected.sort(key=lambda e: e.line)
    report = ImportReport(rows=rows, rejected=rejected, **counts)
    _finish_run(factory, run.id, report)
    return report


def _finish_run(
    factory: sessionmaker[Session], run_id: int, report: ImportReport, note: str | None = None
) -> None:
    errors = [str(e) for e in sorted(report.rejected, key=lambda e: e.line)]
    with factory.begin() as session:
        session.execute(
            update(ImportRun)
            .where(ImportRun.id == run_id)
            .values(
                rows=report.rows,
                created=report.created,
                updated=report.updated,
                rejected=report.rejected_rows,
                errors=[*errors, note] if note else errors,
            )
        )


def _in_file_conflict(
    row: Row,
    first_debtor_row: dict[str, tuple[int, dict[str, Any]]],
    first_account_row: dict[str, int],
) -> RowError | None:
    if (first := first_account_row.get(row.account_ext)) is not None:
        reason = f"account {row.account_ext} already on line {first}"
        return RowError(row.line, "account_id", reason, row.account_ext)
    seen = first_debtor_row.get(row.debtor_ext)
    if seen is not None:
        line, values = seen
        for key, value in row.debtor.items():
            if key in values and values[key] != value:
                column = {"stated_timezone": "timezone"}.get(key, key)
                reason = f"differs from line {line} for the same debtor_id {row.debtor_ext}"
                return RowError(row.line, column, reason, row.account_ext)
    first_account_row[row.account_ext] = row.line
    first_debtor_row.setdefault(row.debtor_ext, (row.line, row.debtor))
    return None
