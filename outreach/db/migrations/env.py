"""Alembic environment: runs on the connection outreach.db.upgrade() hands over, or on
OUTREACH_DATABASE_URL when invoked from the alembic command line."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from outreach.config.loader import Config
from outreach.db.engine import make_engine
from outreach.db.types import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(Config().database_url)
    with engine.begin() as conn:
        _run(conn)
