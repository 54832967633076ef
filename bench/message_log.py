"""Benchmark the agent console's message log at scale: keyset pages with filters.

    .venv/bin/python bench/message_log.py [N]        (default 1,000,000 messages)

Seeds N messages (10 per debtor; states, channels, campaigns and decisions mixed like a real
log) with Core executemany on a fresh SQLite file, plus PostgreSQL when
OUTREACH_BENCH_POSTGRES_URL is set (its public schema is dropped first). Then times the real
query (`log_query.log_page`, 50 rows, what /console/log and /api/messages run) for the first
page and for a deep page (cursor at the middle of the log) under several filters, and a
baseline in the same process: `SELECT * FROM messages ORDER BY id DESC LIMIT 50`.
Figures are the median of 7 runs after one warm-up.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from outreach.db.engine import make_engine, session_factory, upgrade  # noqa: E402
from outreach.db.models import Account, Debtor, Message  # noqa: E402
from outreach.queries.log import LogFilter, log_page  # noqa: E402

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
PER_DEBTOR = 10
STATES = [  # (state, weight, rules, reason)
    ("sent", 60, [], ""),
    ("delivered", 15, [], ""),
    ("deferred", 8, ["F1"], "It is 07:10 in America/Chicago (window 08:00-21:00)."),
    ("planned", 8, [], ""),
    ("blocked", 2, ["F6"], "The consumer asked us in writing to stop communicating."),
    ("blocked", 1, ["F7"], "The consumer opted out of messages to this address."),
    ("failed", 3, [], ""),
    ("skipped", 3, [], ""),
]


def seed(engine: Engine, n: int) -> None:
    rng = random.Random(5)
    debtors = n // PER_DEBTOR
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            insert(Debtor),
            [
                {
                    "id": i,
                    "external_id": f"D{i:07d}",
                    "first_name": "Test",
                    "last_name": f"Debtor{i}",
                    "language": "en",
                    "inconvenient_times": [],
                    "created_at": NOW,
                }
                for i in range(1, debtors + 1)
            ],
        )
        conn.execute(
            insert(Account),
            [
                {
                    "id": i,
                    "external_id": f"A{i:07d}",
                    "debtor_id": i,
                    "creditor": "Northwind Bank",
                    "account_number": f"4000{i:012d}",
                    "balance": Decimal("812.40"),
                    "itemization": {},
                    "days_past_due": 90,
                    "status": "open",
                    "time_barred": False,
                    "tags": [],
                    "created_at": NOW,
                }
                for i in range(1, debtors + 1)
            ],
        )
    weights = [w for _, w, _, _ in STATES]
    batch = 50_000
    for start in range(0, n, batch):
        rows = []
        for k in range(start, min(start + batch, n)):
            debtor = rng.randrange(1, debtors + 1)
            state, _, rules, reason = rng.choices(STATES, weights)[0]
            channel = rng.choice(("sms", "sms", "email", "letter"))
            at = NOW - timedelta(days=90) + timedelta(seconds=k * 90 * 86400 // n)
            rows.append(
                {
                    "debtor_id": debtor,
                    "account_id": debtor,
                    "campaign": "hardship" if debtor % 5 == 0 else "standard",
                    "step_id": f"s{k}",
                    "channel": channel,
                    "kind": "collection",
                    "template": f"{channel}/reminder",
                    "to_address": {
                        "sms": f"+1212{debtor:07d}",
                        "email": f"debtor{debtor}@example.com",
                        "letter": None,
                    }[channel],
                    "state": state,
                    "due_at": at,
                    "created_at": at,
                    "updated_at": at,
                    "sent_at": at if state in ("sent", "delivered") else None,
                    "attempts": 1,
                    "decision": {
                        "verdict": "block" if state == "blocked" else "allow",
                        "not_before": None,
                        "rules": rules,
                        "reasons": [reason] if reason else [],
                        "zones": ["America/New_York"],
                    },
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(Message), rows)
    print(f"  seeded {n:,} messages, {debtors:,} debtors in {time.perf_counter() - t0:.1f} s")
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def median_ms(run: Callable[[], object], repeat: int = 7) -> float:
    run()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def bench(engine: Engine, n: int) -> None:
    factory = session_factory(engine)
    with engine.connect() as conn:
        middle = conn.execute(select(Message.id).order_by(Message.id).offset(n // 2).limit(1))
        cursor = middle.scalar_one()
    debtor = 4242
    day = (NOW - timedelta(days=45)).date()
    cases: list[tuple[str, LogFilter, str | None]] = [
        ("no filter", LogFilter(), None),
        ("state=blocked", LogFilter(state="blocked"), None),
        ("state=deferred", LogFilter(state="deferred"), None),
        ("campaign=hardship", LogFilter(campaign="hardship"), None),
        ("channel=email", LogFilter(channel="email"), None),
        ("debtor (external id)", LogFilter(debtor=f"D{debtor:07d}"), None),
        ("account (external id)", LogFilter(account=f"A{debtor:07d}"), None),
        ("phone", LogFilter(), f"+1212{debtor:07d}"),
        ("rule=F7 (1% of rows)", LogFilter(rule="F7"), None),
        ("state=blocked & rule=F7", LogFilter(state="blocked", rule="F7"), None),
        (
            "one day (since/until)",
            LogFilter(
                since=datetime.combine(day, datetime.min.time(), tzinfo=UTC),
                until=datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC),
            ),
            None,
        ),
        (
            "one day & channel=sms",
            LogFilter(
                channel="sms",
                since=datetime.combine(day, datetime.min.time(), tzinfo=UTC),
                until=datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC),
            ),
            None,
        ),
    ]

    def baseline() -> None:
        with factory() as s:
            s.execute(select(Message).order_by(Message.id.desc()).limit(50)).all()

    base = median_ms(baseline)
    print(f"  baseline SELECT ... ORDER BY id DESC LIMIT 50: {base:.2f} ms")
    print(f"  {'filter':<26} {'first page':>11} {'deep page':>11} {'rows':>5}  ratio (first/deep)")
    for name, f, address in cases:

        def first(f: LogFilter = f, address: str | None = address) -> None:
            with factory() as s:
                log_page(s, f, address=address, size=50)

        def deep(f: LogFilter = f, address: str | None = address) -> None:
            with factory() as s:
                log_page(s, f, address=address, before_id=cursor, size=50)

        with factory() as s:
            rows = len(log_page(s, f, address=address, size=50).rows)
        a, b = median_ms(first), median_ms(deep)
        print(
            f"  {name:<26} {a:>8.2f} ms {b:>8.2f} ms {rows:>5}  {a / base:.1f}x / {b / base:.1f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=1_000_000, help="messages to seed")
    n = parser.parse_args().n
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        print(f"SQLite (WAL), N = {n:,}")
        seed(engine, n)
        bench(engine, n)
        engine.dispose()
    pg = os.environ.get("OUTREACH_BENCH_POSTGRES_URL")
    if pg:
        engine = make_engine(pg)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade(engine)
        print(f"PostgreSQL, N = {n:,}")
        seed(engine, n)
        bench(engine, n)
        engine.dispose()


if __name__ == "__main__":
    main()
