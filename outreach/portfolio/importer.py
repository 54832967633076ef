"""Import debtors, accounts, contact points and holds from a CSV portfolio file (the columns
are documented in `outreach.portfolio.columns`).

A debtor with several accounts takes one row per account, repeating the debtor's
columns. The import is idempotent by debtor_id and account_id: a row that changes
nothing is counted `unchanged`. Imports only ever add: new contact points, new tags,
new holds (never a duplicate open hold of the same kind and scope); a blank optional
cell keeps what is stored. Consent only moves towards "revoked" (an opt-out recorded
since the last import is never undone by re-importing an old file).

Invalid rows are reported with their physical line number and skipped; the rest of
the file imports. Header, encoding and file-access problems raise `ImportFileError` before
anything is written.

The file is streamed in chunks of CHUNK_ROWS rows, one transaction each, on one connection:
memory does not grow with the file (the file's first rows per debtor and account wait in
temporary tables, `outreach.portfolio.seen`).
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from outreach.clock import Clock
from outreach.collector import rare_collections
from outreach.db.models import ImportRun
from outreach.portfolio.columns import COLUMNS, REQUIRED_COLUMNS
from outreach.portfolio.reader import batches, check_csv, check_utf8, numbered_records, read_header
from outreach.portfolio.report import ImportFileError, ImportReport, RowError
from outreach.portfolio.rows import Row, RowParser
from outreach.portfolio.seen import FirstRows
from outreach.portfolio.store import Batch

__all__ = [
    "COLUMNS",
    "REQUIRED_COLUMNS",
    "ImportFileError",
    "ImportReport",
    "RowError",
    "import_csv",
]


CHUNK_ROWS = 5000  # rows per transaction: a few queries and statements each


def import_csv(
    factory: sessionmaker[Session],
    path: Path,
    *,
    clock: Clock,
    default_region: str = "US",
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a portfolio CSV (see the module docstring), CHUNK_ROWS rows a transaction.

    `progress` is called with the number of data rows handled so far after each chunk.
    Raises ImportFileError for a missing, unreadable, non-UTF-8 or header-less file.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(path, "no such file" if not path.exists() else "not a file")
    check_utf8(path)
    check_csv(path)
    with factory() as probe:
        engine = probe.get_bind()
    assert isinstance(engine, Engine)
    try:
        fh = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ImportFileError(path, exc.strerror or str(exc)) from None
    with fh, engine.connect() as conn, rare_collections():
        reader = csv.reader(fh, strict=False)
        try:
            columns = read_header(path, reader)
        except csv.Error as exc:
            raise ImportFileError(path, f"unreadable header: {exc}") from None
        first_rows = FirstRows(conn)
        first_rows.open()
        try:
            return _import(
                conn, path, reader, RowParser(columns, default_region), first_rows, clock, progress
            )
        finally:
            # Left behind, they are dropped by the next import on this pooled connection.
            with contextlib.suppress(SQLAlchemyError):
                first_rows.close()


def _import(
    conn: Connection,
    path: Path,
    reader: Any,
    parser: RowParser,
    first_rows: FirstRows,
    clock: Clock,
    progress: Callable[[int], None] | None,
) -> ImportReport:
    source = f"import:{path.name[-150:]}"  # fits the 200-character source columns
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    rejected: list[RowError] = []
    rows = 0
    with conn.begin():
        run_id = conn.execute(
            insert(ImportRun).returning(ImportRun.id),
            {"file": str(path)[-500:], "started_at": clock.now(), "errors": []},
        ).scalar_one()
    try:
        for chunk in batches(numbered_records(reader), CHUNK_ROWS):
            parsed: list[Row] = []
            for line, end, record in chunk:
                result = parser.parse(line, end, record)
                if isinstance(result, list):
                    rejected.extend(result)
                else:
                    parsed.append(result)
            outcomes: list[str | RowError] = []
            with conn.begin():
                parsed, conflicts = first_rows.check(parsed)
                if parsed:
                    plan = Batch(conn, parsed, source, clock.now())
                    outcomes = [plan.apply(row) for row in parsed]
                    plan.write()
            rows += len(chunk)
            rejected.extend(conflicts)
            for outcome in outcomes:  # counted once committed
                if isinstance(outcome, RowError):
                    rejected.append(outcome)
                else:
                    counts[outcome] += 1
            if progress is not None:
                progress(rows)
    except BaseException as exc:
        # Earlier chunks are committed: say so in the run's record, then re-raise.
        partial = ImportReport(rows=rows, rejected=rejected, **counts)
        note = f"aborted after {rows} rows: {type(exc).__name__}: {exc}"
        with contextlib.suppress(Exception):
            if conn.in_transaction():
                conn.rollback()
            _finish_run(conn, run_id, partial, note)
        raise
    rejected.sort(key=lambda e: e.line)
    report = ImportReport(rows=rows, rejected=rejected, **counts)
    _finish_run(conn, run_id, report)
    return report


def _finish_run(
    conn: Connection, run_id: int, report: ImportReport, note: str | None = None
) -> None:
    errors = [str(e) for e in sorted(report.rejected, key=lambda e: e.line)]
    with conn.begin():
        conn.execute(
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
