"""A claim walks its batch, not the backlog: the planner reads the due rows of one channel
oldest first from the partial index and stops after the batch, however many messages were
ever sent (issue 11). The statements checked are the ones `outbox.claim` and
`outbox.reap_expired` execute."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event
from sqlalchemy.sql import Select

from outreach.db import outbox
from outreach.db.engine import make_engine, session_factory, upgrade
from tests.backlog import PAUSED_EVERY, seed_backlog
from tests.conftest import PG_URL_ENV, reset_postgres

pytestmark = pytest.mark.db

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
BATCH = 100
DUE = 200_000  # planned and deferred, due in the last 30 days
SENT = 200_000


def _sql(conn: Connection, stmt: Select[Any]) -> tuple[str, Any]:
    """The statement as the driver receives it, with its parameters (for EXPLAIN)."""
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    if compiled.positiontup is not None:
        return str(compiled), tuple(params[name] for name in compiled.positiontup)
    return str(compiled), dict(params)


def _pg_plan(conn: Connection, stmt: Select[Any], *, analyze: bool = False) -> dict[str, Any]:
    sql, params = _sql(conn, stmt)
    options = "ANALYZE, FORMAT JSON" if analyze else "FORMAT JSON"
    raw = conn.exec_driver_sql(f"EXPLAIN ({options}) {sql}", params).scalar_one()
    plan: dict[str, Any] = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    return plan


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _scans_of_messages(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in _nodes(plan) if n.get("Relation Name") == "messages"]


@pytest.fixture(scope="module")
def backlog() -> Iterator[Engine]:
    """One seeded PostgreSQL database for the module's tests (seeding takes half a minute)."""
    url = os.environ.get(PG_URL_ENV, "")
    if not url.startswith("postgresql"):
        pytest.skip("the plan at scale is PostgreSQL's: set OUTREACH_TEST_DATABASE_URL")
    reset_postgres(url)
    engine = make_engine(url)
    upgrade(engine)
    seed_backlog(engine, NOW, due=DUE, sent=SENT, later=DUE // 4)
    yield engine
    engine.dispose()


def test_a_claim_is_an_index_range_walk_that_stops_after_its_batch(backlog: Engine) -> None:
    stmt = outbox.claim_statement(NOW, BATCH, ["email"])
    with backlog.connect() as conn:
        plan = _pg_plan(conn, stmt)
        [scan] = _scans_of_messages(plan)  # one scan of messages, and not a Seq Scan
        assert scan["Node Type"] == "Index Scan"
        assert scan["Index Name"] == "ix_messages_due_email"
        kinds = {n["Node Type"] for n in _nodes(plan)}
        assert "Sort" not in kinds and "Incremental Sort" not in kinds

        analyzed = _pg_plan(conn, stmt, analyze=True)
        conn.rollback()  # EXPLAIN ANALYZE ran the claim's row locks
    [scan] = _scans_of_messages(analyzed)
    walked = scan["Actual Rows"] + scan.get("Rows Removed by Filter", 0)
    assert analyzed["Actual Rows"] == BATCH
    # The batch plus the paused campaign's rows among it: not the 66,667 due emails.
    assert walked <= BATCH + BATCH // PAUSED_EVERY + 2


def test_a_claim_skips_a_paused_campaign_without_joining_the_backlog(backlog: Engine) -> None:
    stmt = outbox.claim_statement(NOW, BATCH, ["sms"])
    with backlog.connect() as conn:
        analyzed = _pg_plan(conn, stmt, analyze=True)
        conn.rollback()
    [scan] = _scans_of_messages(analyzed)
    assert scan["Index Name"] == "ix_messages_due_sms"
    # The paused names are hashed once and filter the rows walked (no anti-join over the
    # backlog); the paused campaign's rows among the batch are what the filter removed.
    assert "hashed SubPlan" in scan["Filter"]
    assert 1 <= scan["Rows Removed by Filter"] <= BATCH // PAUSED_EVERY + 2


def test_the_reaper_reads_only_the_leases_in_flight(backlog: Engine) -> None:
    with backlog.connect() as conn:
        analyzed = _pg_plan(conn, outbox.expired_statement(NOW), analyze=True)
        conn.rollback()
    [scan] = _scans_of_messages(analyzed)
    assert scan["Node Type"] in ("Index Scan", "Bitmap Heap Scan")
    assert scan.get("Index Name") == "ix_messages_leased" or any(
        n.get("Index Name") == "ix_messages_leased" for n in _nodes(scan)
    ), analyzed
    assert scan["Actual Rows"] + scan.get("Rows Removed by Filter", 0) <= 300  # the leases only


def test_on_sqlite_a_claim_searches_the_partial_index_in_order(engine: Engine) -> None:
    """The engine keeps statistics (PRAGMA optimize as a connection goes back to the pool,
    after the first claims read the table): without them SQLite prefers an equality on
    `state` and sorts every due message."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's planner")
    seed_backlog(engine, NOW, due=6_000, sent=6_000, analyze=False)
    with session_factory(engine)() as session:  # a worker's first claim, rolled back
        assert len(outbox.claim(session, "w", NOW, BATCH, timedelta(minutes=5), ["email"]))
    with engine.connect() as conn:
        sql, params = _sql(conn, outbox.claim_statement(NOW, BATCH, ["email"]))
        plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)]
    search = "USING INDEX ix_messages_due_email (due_at<?)"
    assert any(search in p for p in plan), plan
    assert not any("TEMP B-TREE" in p for p in plan), plan


def test_on_sqlite_a_claim_names_its_index_whatever_the_statistics(engine: Engine) -> None:
    """Statistics sampled with `analysis_limit` once made `state IN (...)` look selective
    at a 1M backlog: SQLite sorted the whole backlog for every claim (276 ms a claim). The
    claim names the channel's index (`INDEXED BY`), so its plan no longer depends on them."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's planner")
    seed_backlog(engine, NOW, due=3_000, sent=3_000, analyze=True)
    with engine.begin() as conn:  # statistics that say a state picks ten rows of a million
        conn.exec_driver_sql(
            "UPDATE sqlite_stat1 SET stat = '1000000 10 1' WHERE idx = 'ix_messages_state_id'"
        )
    engine.dispose()  # connections read the statistics when they open
    with engine.connect() as conn:
        sql, params = _sql(conn, outbox.claim_statement(NOW, BATCH, ["email"]))
        unnamed = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)]
    assert any("TEMP B-TREE" in p for p in unnamed), unnamed  # what SQLite would do unaided

    sent: list[tuple[str, Any]] = []

    def capture(*args: Any) -> None:
        if "ORDER BY messages.due_at" in args[2]:
            sent.append((args[2], args[3]))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with session_factory(engine)() as session:
            assert len(outbox.claim(session, "w", NOW, BATCH, timedelta(minutes=5), ["email"]))
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    (claimed_sql, claimed_params), *_ = sent
    with engine.connect() as conn:
        plan = [
            row[-1]
            for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {claimed_sql}", claimed_params)
        ]
    assert any("USING INDEX ix_messages_due_email (due_at<?)" in p for p in plan), plan
    assert not any("TEMP B-TREE" in p for p in plan), plan
