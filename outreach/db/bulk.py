"""Bulk inserts at the driver's speed: one DBAPI executemany of rows whose values went through
SQLAlchemy's own bind processors, column by column (a constant column once per call).

Core executemany runs every value of every row through the statement's parameter machinery
(about 60% of the CPU time of importing a portfolio on SQLite); here the same conversions
(UTC datetimes, JSON, numerics) are applied with the types' public `bind_processor`, and the
columns' Python-side defaults are filled in as a Core insert would. On PostgreSQL with psycopg
the rows go through COPY ... FROM STDIN (psycopg adapts the same processed values), several
times faster than executemany there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import repeat
from typing import Any

from sqlalchemy import Connection, Table, any_, bindparam, insert
from sqlalchemy.dialects.postgresql import ARRAY


def insert_rows(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    constants: Mapping[str, Any] | None = None,
) -> None:
    """INSERT `rows` (dicts with the same keys) into `table`, each also with `constants`.

    Columns in neither take their scalar or callable Python-side default, as with Core.
    """
    if not rows:
        return
    dialect = conn.dialect
    fixed = dict(constants or {})
    keys = [k for k in rows[0] if k not in fixed]
    for column in table.columns:
        if column.key in fixed or column.key in rows[0] or column.default is None:
            continue
        default: Any = column.default
        if default.is_scalar:
            fixed[column.key] = default.arg
        elif default.is_callable:
            fixed[column.key] = default.arg(None)  # list, dict: they take no context
    names = keys + list(fixed)
    compiled = insert(table).compile(dialect=dialect, column_keys=names, for_executemany=True)

    def processor(key: str) -> Any:
        return table.c[key].type.dialect_impl(dialect).bind_processor(dialect)

    values: dict[str, Iterable[Any]] = {}
    for key in keys:
        process = processor(key)
        given = [row[key] for row in rows]
        values[key] = [process(v) for v in given] if process else given
    for key, value in fixed.items():
        process = processor(key)
        values[key] = repeat(process(value) if process and value is not None else value)
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        _copy(conn, table, names, zip(*(values[k] for k in names), strict=False))
        return
    if compiled.positional:
        order = compiled.positiontup or []
        # strict=False: the constant columns are repeat()s, the given ones end with the rows
        params: list[Any] = list(zip(*(values[k] for k in order), strict=False))
    else:
        params = [
            dict(zip(names, row, strict=True))
            for row in zip(*(values[k] for k in names), strict=False)
        ]
    conn.exec_driver_sql(compiled.string, params)


def _copy(
    conn: Connection, table: Table, names: list[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    quote = conn.dialect.identifier_preparer
    columns = ", ".join(quote.quote(table.c[name].name) for name in names)
    sql = f"COPY {quote.format_table(table)} ({columns}) FROM STDIN"
    raw: Any = conn.connection.dbapi_connection
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def among(conn: Connection, column: Any, values: Iterable[Any]) -> Any:
    """`column IN (values)` for a few thousand values: on PostgreSQL `= ANY(:array)`, one
    parameter instead of thousands (each rendered, bound and sent on its own)."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)
