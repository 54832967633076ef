"""What the file being imported has already said: the first line of each debtor and account.

Within one file the first row for a debtor defines it; a later row that contradicts it is an
error (else re-importing the file would flip the debtor back and forth), and an account on two
rows is an error. The first rows are kept in two temporary tables on the import's connection,
not in memory, so an import's memory does not grow with the file; each chunk reads the entries
for its own ids (two indexed queries) and adds its new ones.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, select

from outreach.db.bulk import among, insert_rows
from outreach.portfolio.report import RowError
from outreach.portfolio.rows import Row

_DEBTOR_KEYS = ("first_name", "last_name", "language", "stated_timezone")


_metadata = MetaData()


_DEBTORS = Table(
    "import_seen_debtors",
    _metadata,
    Column("external_id", String(64), primary_key=True),
    Column("line", Integer, nullable=False),
    # The columns the first row gave (NULL: left blank there, so not compared).
    *(Column(key, String(100)) for key in _DEBTOR_KEYS),
    prefixes=["TEMPORARY"],
)


_ACCOUNTS = Table(
    "import_seen_accounts",
    _metadata,
    Column("external_id", String(64), primary_key=True),
    Column("line", Integer, nullable=False),
    prefixes=["TEMPORARY"],
)


class FirstRows:
    """The temporary tables of one import (create with `open`, remove with `close`)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def open(self) -> None:
        with self.conn.begin():
            for table in (_DEBTORS, _ACCOUNTS):
                table.drop(self.conn, checkfirst=True)  # left on a pooled connection by a crash
                table.create(self.conn)

    def close(self) -> None:
        with self.conn.begin():
            for table in (_DEBTORS, _ACCOUNTS):
                table.drop(self.conn, checkfirst=True)

    def check(self, rows: list[Row]) -> tuple[list[Row], list[RowError]]:
        """Split a chunk into the rows that agree with the file so far and the conflicts;
        records the chunk's new first rows (in the caller's transaction)."""
        conn = self.conn
        accounts: dict[str, int] = {
            ext: line
            for ext, line in conn.execute(
                select(_ACCOUNTS.c.external_id, _ACCOUNTS.c.line).where(
                    among(conn, _ACCOUNTS.c.external_id, {r.account_ext for r in rows})
                )
            )
        }
        debtors: dict[str, tuple[int, dict[str, Any]]] = {}
        for seen in conn.execute(
            select(_DEBTORS).where(
                among(conn, _DEBTORS.c.external_id, {r.debtor_ext for r in rows})
            )
        ).mappings():
            given = {k: seen[k] for k in _DEBTOR_KEYS if seen[k] is not None}
            debtors[seen["external_id"]] = (seen["line"], given)
        known_accounts, known_debtors = set(accounts), set(debtors)
        good: list[Row] = []
        errors: list[RowError] = []
        for row in rows:
            conflict = _conflict(row, debtors, accounts)
            if conflict is None:
                good.append(row)
            else:
                errors.append(conflict)
        new_accounts = [
            {"external_id": ext, "line": line}
            for ext, line in accounts.items()
            if ext not in known_accounts
        ]
        insert_rows(conn, _ACCOUNTS, new_accounts)
        new_debtors = [
            {"external_id": ext, "line": line, **dict.fromkeys(_DEBTOR_KEYS), **given}
            for ext, (line, given) in debtors.items()
            if ext not in known_debtors
        ]
        insert_rows(conn, _DEBTORS, new_debtors)
        return good, errors


def _conflict(
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
