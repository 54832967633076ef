"""Benchmark the pipeline: plan, check, render and log N messages, channels in no-network mode.

    .venv/bin/python bench/pipeline.py [N] [--database-url URL] [--processes P]

With --processes P, P dispatcher processes (as `outreach worker --processes P` runs them)
share the backlog; the figures are then the whole machine's, and per process.

Prints messages per second and peak memory for each stage, and the ratio to a baseline run in
the same process: writing the same N log rows (and their events) with plain Core executemany,
i.e. the floor any pipeline that logs every message must pay on this database.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import delete, func, insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.record import record  # noqa: E402
from outreach.channels.null import NullChannel  # noqa: E402
from outreach.clock import SimulatedClock  # noqa: E402
from outreach.collector import tune_for_pipeline  # noqa: E402
from outreach.config.campaigns import Campaign  # noqa: E402
from outreach.config.loader import Config  # noqa: E402
from outreach.db.models import Account, ContactPoint, Debtor, Message, MessageEvent  # noqa: E402
from outreach.pipeline import planner  # noqa: E402
from outreach.pipeline.dispatcher import Dispatcher  # noqa: E402
from outreach.runtime import Runtime  # noqa: E402

CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))  # sends in flight per channel
NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)  # 10:00 in Los Angeles, 08:00 in Honolulu
AREAS = [
    ("212", "NY", "10118"),
    ("312", "IL", "60601"),
    ("303", "CO", "80202"),
    ("213", "CA", "90012"),
    ("808", "HI", "96813"),
    ("907", "AK", "99501"),
]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed(runtime: Runtime, n: int) -> None:
    """N debtors, one account each, a phone, an email and an address; half tagged for SMS."""
    rng = random.Random(7)
    with runtime.factory.begin() as s:
        s.execute(
            insert(Debtor),
            [
                {
                    "id": i,
                    "external_id": f"B{i}",
                    "first_name": "Alex",
                    "last_name": f"Doe{i}",
                    "language": "en",
                    "created_at": NOW,
                }
                for i in range(1, n + 1)
            ],
        )
        s.execute(
            insert(Account),
            [
                {
                    "id": i,
                    "external_id": f"BA{i}",
                    "debtor_id": i,
                    "creditor": "Northwind Bank",
                    "original_creditor": None,
                    "account_number": f"40001234{i:08d}",
                    "balance": Decimal("250.00"),
                    "itemization": {
                        "date": "2026-06-30",
                        "amount": "250.00",
                        "interest": "0",
                        "fees": "0",
                        "payments": "0",
                        "credits": "0",
                    },
                    "days_past_due": 90,
                    "state": AREAS[i % len(AREAS)][1],
                    "status": "open",
                    "time_barred": False,
                    "tags": ["sms" if i % 2 else "email"],
                    "created_at": NOW,
                }
                for i in range(1, n + 1)
            ],
        )
        points = []
        for i in range(1, n + 1):
            area, state, zip_ = AREAS[i % len(AREAS)]
            points.append(
                {
                    "debtor_id": i,
                    "kind": "phone",
                    "value": f"+1{area}{rng.randint(2000000, 9999999)}",
                    "label": "mobile",
                    "consent": "granted",
                    "source": "bench",
                    "created_at": NOW,
                }
            )
            points.append(
                {
                    "debtor_id": i,
                    "kind": "email",
                    "value": f"b{i}@example.com",
                    "label": "personal",
                    "consent": "granted",
                    "source": "bench",
                    "created_at": NOW,
                }
            )
            points.append(
                {
                    "debtor_id": i,
                    "kind": "address",
                    "value": f"{i} Main St",
                    "address": {
                        "line1": f"{i} Main St",
                        "line2": "",
                        "city": "Town",
                        "state": state,
                        "zip": zip_,
                    },
                    "consent": "granted",
                    "source": "bench",
                    "created_at": NOW,
                }
            )
        s.execute(insert(ContactPoint), points)


def campaigns() -> dict[str, Campaign]:
    return {
        name: Campaign.model_validate(
            {
                "name": name,
                "segment": {"tags_any": [name]},
                "steps": [{"id": "one", "day": 0, "channel": name, "template": template}],
            }
        )
        for name, template in (("sms", "sms/reminder"), ("email", "email/second_reminder"))
    }


def baseline(runtime: Runtime, n: int) -> float:
    """Write N message rows and 4 events each with Core executemany: the logging floor."""
    rows = [
        {
            "debtor_id": (i % n) + 1,
            "channel": "email",
            "kind": "collection",
            "template": "email/x",
            "state": "sent",
            "due_at": NOW,
            "created_at": NOW,
            "updated_at": NOW,
            "attempts": 1,
            "body": "x" * 600,
            "decision": {"verdict": "allow"},
        }
        for i in range(n)
    ]
    start = time.perf_counter()
    with runtime.factory.begin() as s:
        ids = s.execute(insert(Message).returning(Message.id), rows).scalars().all()
        s.execute(
            insert(MessageEvent),
            [
                {
                    "message_id": i,
                    "at": NOW,
                    "from_state": None,
                    "to_state": state,
                    "cause": "bench",
                }
                for i in ids
                for state in ("planned", "claimed", "sending", "sent")
            ],
        )
    elapsed = time.perf_counter() - start
    with runtime.factory.begin() as s:
        s.execute(delete(MessageEvent))
        s.execute(delete(Message))
    return elapsed


def bench_runtime(tmp: Path, url: str | None) -> Runtime:
    config = Config(ROOT / "config").relocate(tmp)
    if url:
        config.secrets.database_url = url
    # The pipeline's own cost: the shared rate limit still reserves slots (one transaction
    # per group of sends), but 10/s would measure the limit, not the pipeline.
    sms = config.file.sms.model_copy(update={"max_per_second": 1e9})
    config.file = config.file.model_copy(update={"sms": sms})
    return Runtime(config, SimulatedClock(NOW))


def bench_dispatcher(runtime: Runtime, worker_id: str) -> tuple[Dispatcher, dict[str, NullChannel]]:
    channels = {"sms": NullChannel("sms"), "email": NullChannel("email")}
    dispatcher = runtime.dispatcher(channels, worker_id=worker_id)
    dispatcher.campaigns = campaigns()
    dispatcher.settings = replace(
        dispatcher.settings,
        batch_size=1000,
        concurrency={"sms": CONCURRENCY, "email": CONCURRENCY},
    )
    return dispatcher, channels


def dispatch_child(
    tmp: Path, url: str | None, index: int, start_at: float
) -> tuple[int, int, float, float, float]:
    """One of P dispatcher processes, started together at `start_at` (wall clock), after
    their imports: (claimed, bytes rendered, CPU s, start, end)."""
    tune_for_pipeline()
    runtime = bench_runtime(tmp, url)
    dispatcher, channels = bench_dispatcher(runtime, f"bench-{index}")
    time.sleep(max(0.0, start_at - time.time()))
    began, cpu0 = time.time(), cpu_seconds()
    report = asyncio.run(dispatcher.run_until_idle(max_batches=10_000_000))
    cpu = cpu_seconds() - cpu0
    return report.claimed, sum(c.bytes for c in channels.values()), cpu, began, time.time()


async def dispatch_in_processes(
    tmp: Path, url: str | None, processes: int
) -> tuple[int, int, list[float], float]:
    """P processes dispatch the backlog together: (claimed, bytes, each one's CPU s, wall s
    from the first start to the last finish)."""
    loop = asyncio.get_running_loop()
    context = multiprocessing.get_context("spawn")
    start_at = time.time() + 3 + processes  # time enough to start and import
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        results = await asyncio.gather(
            *(
                loop.run_in_executor(pool, dispatch_child, tmp, url, i, start_at)
                for i in range(1, processes + 1)
            )
        )
    wall = max(r[4] for r in results) - min(r[3] for r in results)
    return sum(r[0] for r in results), sum(r[1] for r in results), [r[2] for r in results], wall


async def run(n: int, url: str | None, processes: int, tmp: Path) -> None:
    tune_for_pipeline()  # as `outreach worker` does
    runtime = bench_runtime(tmp, url)
    clock = runtime.clock
    runtime.migrate()
    t0 = time.perf_counter()
    seed(runtime, n)
    seeded = time.perf_counter() - t0
    base = baseline(runtime, n)

    t0 = time.perf_counter()
    plan = planner.tick(runtime.factory, campaigns(), clock)
    planned = time.perf_counter() - t0
    if processes > 1:
        runtime.engine.dispose()
        claimed, rendered, cpus, dispatched = await dispatch_in_processes(tmp, url, processes)
        outcomes = f"{processes} processes, CPU s {[round(c, 1) for c in cpus]}"
        dispatch_cpu = sum(cpus)
    else:
        t0, cpu0 = time.perf_counter(), cpu_seconds()
        dispatcher, channels = bench_dispatcher(runtime, "bench")
        report = await dispatcher.run_until_idle(max_batches=10_000_000)
        claimed, rendered = report.claimed, sum(c.bytes for c in channels.values())
        outcomes = str(dict(report.outcomes))
        dispatch_cpu = cpu_seconds() - cpu0
        dispatched = time.perf_counter() - t0
    with runtime.factory() as s:
        states = dict(s.execute(select(Message.state, func.count()).group_by(Message.state)).all())
        events = s.scalar(select(func.count()).select_from(MessageEvent))

    total = planned + dispatched
    print(f"database: {runtime.engine.url.render_as_string(hide_password=True)}")
    print(f"N = {n:,} debtors ({n // 2:,} sms, {n - n // 2:,} email); seeded in {seeded:.1f}s")
    rate = plan.planned / planned
    print(f"plan:      {plan.planned:,} messages in {planned:.2f}s = {rate:,.0f} msg/s")
    print(
        f"dispatch:  {claimed:,} claimed, {outcomes} in {dispatched:.2f}s"
        f" = {claimed / dispatched:,.0f} msg/s (check + render + send + record),"
        f" {claimed / dispatched / processes:,.0f} msg/s per process,"
        f" {1000 * dispatch_cpu / max(claimed, 1):.2f} ms CPU per message"
    )
    print(f"pipeline:  {plan.planned / total:,.0f} msg/s end to end; states {states}")
    print(f"events:    {events:,} message events written")
    print(
        f"baseline:  {n:,} log rows + {4 * n:,} events via Core executemany in {base:.2f}s"
        f" = {n / base:,.0f} rows/s"
    )
    print(f"ratio:     pipeline time / baseline time = {total / base:.1f}x")
    print(f"bytes rendered: {rendered:,}")
    print(f"peak memory (max RSS): {peak_mb():.0f} MB")
    db = runtime.engine.url.get_backend_name()
    command = f"python bench/pipeline.py {n} --processes {processes}"
    record(
        f"pipeline dispatch per process ({db}, {processes} process{'es' if processes > 1 else ''})",
        claimed / dispatched / processes,
        "msg/s",
        target=5000,
        command=command,
    )
    record(
        f"pipeline CPU per message ({db}, {processes} process{'es' if processes > 1 else ''})",
        1000 * dispatch_cpu / max(claimed, 1),
        "ms",
        higher_is_better=False,
        command=command,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--processes", type=int, default=1, help="dispatcher processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="outreach-bench-") as tmp:
        asyncio.run(run(args.n, args.database_url, args.processes, Path(tmp)))


if __name__ == "__main__":
    main()
