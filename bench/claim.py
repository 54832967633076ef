"""Benchmark a claim at growing backlogs on PostgreSQL: migration 0006's partial indexes
(after) against the 0005 schema (before), the same `outbox.claim` call in both.

    OUTREACH_BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/NAME \\
        .venv/bin/python bench/claim.py [--sizes 10000,100000,200000] [--rounds 3]

For each size N the database (its public schema is dropped first) gets N messages due (in
the 30 days before now, across sms/email/letter, one in 50 of a paused campaign), N/4 due
later and N already sent (tests/backlog.py, Core bulk inserts), then VACUUM ANALYZE. Each
round times `outbox.claim` of one channel's batch of 100 (what the dispatcher runs), rolled
back so the backlog stays as it is, 15 times with 0006's indexes, then 15 times after
`alembic downgrade 0005` (the indexes main had), interleaved for `--rounds`. Printed: the
median time per claim of each, the ratio, and the rows the claim's SELECT walked
(EXPLAIN ANALYZE).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from outreach.db import outbox  # noqa: E402
from outreach.db.engine import downgrade, make_engine, session_factory, upgrade  # noqa: E402
from tests.backlog import seed_backlog  # noqa: E402

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
BATCH = 100
CLAIMS = 15


def reset(url: str) -> Engine:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    return engine


def analyze(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE messages"))


def claim_times(engine: Engine) -> tuple[list[float], list[float]]:
    """Seconds per claim's SELECT alone, and per whole `outbox.claim` of a batch (the SELECT,
    the UPDATE of the batch, its events), each in a transaction that is rolled back."""
    factory = session_factory(engine)
    selects, claims = [], []
    for i in range(CLAIMS + 1):
        with factory() as session:
            t0 = time.perf_counter()
            rows = session.execute(outbox.claim_statement(NOW, BATCH, ["email"])).all()
            t1 = time.perf_counter()
            session.rollback()
            t2 = time.perf_counter()
            ids = outbox.claim(session, "bench", NOW, BATCH, timedelta(minutes=5), ["email"])
            t3 = time.perf_counter()
            session.rollback()
        assert len(rows) == len(ids) == BATCH
        if i:  # the first one warms the connection and the plan cache
            selects.append(t1 - t0)
            claims.append(t3 - t2)
    return selects, claims


def rows_walked(engine: Engine) -> tuple[str, int]:
    """(index used, rows the scan of messages read) for the claim's SELECT."""
    stmt = outbox.claim_statement(NOW, BATCH, ["email"])
    with engine.connect() as conn:
        compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
        raw = conn.exec_driver_sql(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}", dict(compiled.params)
        ).scalar_one()
        conn.rollback()
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    while plan.get("Relation Name") != "messages":
        plan = plan["Plans"][0]
    walked = plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0)
    return plan.get("Index Name", plan["Node Type"]), int(walked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,200000")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = os.environ.get("OUTREACH_BENCH_POSTGRES_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("set OUTREACH_BENCH_POSTGRES_URL to a PostgreSQL database (it is wiped)")
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"claim of {BATCH} (one channel), median of {CLAIMS} x {args.rounds} rounds, ms;")
    print("before: the 0005 indexes, after: 0006's; the same statement and code in both")
    print(
        f"{'due':>8} {'sent':>8} | {'SELECT before':>13} {'after':>6} {'ratio':>6} |"
        f" {'claim before':>12} {'after':>6} {'ratio':>6} | rows walked before / after"
    )
    for n in sizes:
        engine = reset(url)
        upgrade(engine)
        seed_backlog(engine, NOW, due=n, sent=n, later=n // 4)
        sel_b: list[float] = []
        sel_a: list[float] = []
        claim_b: list[float] = []
        claim_a: list[float] = []
        for _ in range(args.rounds):
            s, c = claim_times(engine)
            sel_a, claim_a = sel_a + s, claim_a + c
            index_a, walked_a = rows_walked(engine)
            downgrade(engine, "0005")
            analyze(engine)
            s, c = claim_times(engine)
            sel_b, claim_b = sel_b + s, claim_b + c
            index_b, walked_b = rows_walked(engine)
            upgrade(engine)
            analyze(engine)
        sb, sa, cb, ca = (statistics.median(t) * 1000 for t in (sel_b, sel_a, claim_b, claim_a))
        print(
            f"{n:>8,} {n:>8,} | {sb:>13.2f} {sa:>6.2f} {sb / sa:>5.1f}x |"
            f" {cb:>12.2f} {ca:>6.2f} {cb / ca:>5.1f}x |"
            f" {walked_b:,} ({index_b}) / {walked_a:,} ({index_a})"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
