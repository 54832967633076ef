"""Engine and session factory (SQLite gets WAL and sane pragmas; PostgreSQL is used as is), and
the schema's migrations: `upgrade` (only `outreach migrate`, `init` and the demo call it) and
`schema_status`, which every other command checks before it touches the database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.dml import Insert

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_MS = 30_000  # how long a SQLite connection waits for another one's write lock


def make_engine(url: str, **kwargs: Any) -> Engine:
    """hide_parameters: a database error's text (logged, shown) carries no bound values; they
    are debtors' phones, addresses and message bodies."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "checkin", _sqlite_optimize)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        event.listen(engine, "before_cursor_execute", _sqlite_indexed_by, retval=True)
        # Let SQLAlchemy emit BEGIN itself so "begin" above controls the lock mode.
        event.listen(engine, "connect", _sqlite_no_autobegin)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True, **kwargs)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cur.execute("PRAGMA analysis_limit=1000")  # ANALYZE samples: milliseconds at any size
    cur.close()


def _sqlite_optimize(dbapi_conn: Any, _record: Any) -> None:
    """Keep the planner's statistics current, as SQLite advises (PRAGMA optimize as a
    connection is done with): it runs ANALYZE only on the tables this connection read that
    have no statistics or changed much since, so it is a no-op most times. The queries with
    a choice of indexes (the log's filters, a claim over several channels) plan from them;
    the dispatcher's single-channel claim names its index instead (`INDEXED BY`), because
    statistics sampled within `analysis_limit` can mislead the planner on a large backlog.
    Best effort: ANALYZE needs the
    write lock, and while another connection writes it is skipped at once (the next check-in
    tries again) rather than waiting."""
    if dbapi_conn is None:
        return
    try:
        dbapi_conn.execute("PRAGMA busy_timeout=0")
        dbapi_conn.execute("PRAGMA optimize")
    except sqlite3.OperationalError:
        pass
    finally:
        dbapi_conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")


def _sqlite_no_autobegin(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None


READ_ONLY = "outreach_read_only"
# Execution option (table, index): on SQLite, `FROM table INDEXED BY index` (SQLAlchemy renders
# no table hints for SQLite). For a statement whose plan must not depend on the statistics.
INDEXED_BY = "outreach_sqlite_indexed_by"


def _sqlite_indexed_by(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> tuple[str, Any]:
    index = context.execution_options.get(INDEXED_BY) if context is not None else None
    if index:
        table, name = index
        statement = statement.replace(f"FROM {table} ", f"FROM {table} INDEXED BY {name} ", 1)
    return statement, parameters


def _sqlite_begin_immediate(conn: Any) -> None:
    # Take the write lock at BEGIN: two processes never both read-then-write the same rows.
    # A session opened by `reading` only reads: a deferred BEGIN gives it a WAL snapshot
    # without the write lock, so writers never wait for it.
    conn.exec_driver_sql(
        "BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE"
    )


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def reading(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that only reads, in one consistent snapshot; on SQLite it holds no write
    lock (the check stage renders a batch read this way, then writes in a short
    transaction)."""
    with factory() as session:
        session.connection(execution_options={READ_ONLY: True})
        yield session


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to the newest Alembic revision (or to `revision`, for tests)."""
    from alembic import command

    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to `revision` (benches and tests compare schemas with it)."""
    from alembic import command

    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Where a database's schema stands against the migrations this code ships."""

    current: str | None  # None: no outreach schema at all (no Alembic version recorded)
    head: str
    known: bool  # `current` is one of this code's revisions (False: a newer outreach's)

    @property
    def ready(self) -> bool:
        return self.current == self.head


def _alembic_config() -> Any:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def schema_status(engine: Engine) -> SchemaStatus:
    """Read the recorded revision; raises SQLAlchemy's errors when the database is unreachable."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config())
    head = script.get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise RuntimeError(f"no migrations in {MIGRATIONS_DIR}")
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    known = current is None or current in {rev.revision for rev in script.walk_revisions()}
    return SchemaStatus(current=current, head=head, known=known)


def display_url(url: str) -> str:
    """`url` without its password (nor a `password` query parameter), for messages and logs."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "(a database URL that does not parse)"
    query = {k: v for k, v in parsed.query.items() if "password" not in k.lower()}
    # URL.set() skips None values; the URL is a named tuple, so replace the field itself.
    return parsed._replace(password=None).set(query=query).render_as_string(hide_password=False)


def insert_ignoring_duplicates(session: Session, model: Any) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING in the session's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing()
    return sqlite.insert(model).on_conflict_do_nothing()
