"""The scale run: N debtors (1,000,000 by default) imported, planned, and the first step
dispatched through the null channel, each stage timed with its peak RSS.

    .venv/bin/python bench/scale.py [N] [--database-url URL] [--workdir DIR]
        [--stages import,plan,dispatch] [--dispatch-limit M]

Targets (issue 11): import <= 2 min, plan <= 2 min, peak RSS <= 500 MB. Each stage runs in its
own process (so its peak RSS is its own) against the database in --workdir, so the stages can
be run in parts: `--stages import,plan` first, then `--stages dispatch --dispatch-limit 50000`.
The CSV has N rows (about 1.25 accounts a debtor, bench/portfolio_csv.py); every account is
enrolled in one campaign whose first step, an email on day 0, is what gets dispatched.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import portfolio_csv  # noqa: E402

NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)  # 10:00 in Los Angeles, 08:00 in Honolulu
STAGES = ("import", "plan", "dispatch")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def campaigns() -> dict[str, Any]:
    from outreach.config.campaigns import Campaign

    return {
        "scale": Campaign.model_validate(
            {
                "name": "scale",
                "segment": {},
                "steps": [
                    {
                        "id": "one",
                        "day": 0,
                        "channel": "email",
                        "template": "email/second_reminder",
                    },
                    {
                        "id": "two",
                        "day": 7,
                        "channel": "email",
                        "template": "email/second_reminder",
                    },
                ],
            }
        )
    }


def runtime(url: str, workdir: Path) -> Any:
    from outreach.clock import SimulatedClock
    from outreach.config.loader import Config
    from outreach.runtime import Runtime

    config = Config(ROOT / "config").relocate(workdir)
    config.secrets.database_url = url
    return Runtime(config, SimulatedClock(NOW))


def stage(name: str, url: str, workdir: Path, n: int, limit: int | None) -> dict[str, Any]:
    from sqlalchemy import func, select, text

    from outreach.db.models import Message
    from outreach.pipeline import planner

    rt = runtime(url, workdir)
    result: dict[str, Any] = {"stage": name}
    if name == "import":
        from outreach.portfolio.importer import import_csv

        csv_path = workdir / f"portfolio-{n}.csv"
        if not csv_path.exists():
            t0 = time.perf_counter()
            portfolio_csv.write(csv_path, n)
            result["csv_s"] = time.perf_counter() - t0
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        else:
            with rt.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        rt.migrate()
        t0, c0 = time.perf_counter(), time.process_time()
        report = import_csv(rt.factory, csv_path, clock=rt.clock)
        result |= {"rows": report.rows, "created": report.created}
        result["what"] = f"{report.rows:,} rows, {report.created:,} created"
    elif name == "plan":
        t0, c0 = time.perf_counter(), time.process_time()
        plan = planner.tick(rt.factory, campaigns(), rt.clock)
        result["what"] = f"{plan.enrolled:,} enrolled, {plan.planned:,} messages planned"
        result["rows"] = plan.planned
    else:
        from outreach.channels.null import NullChannel
        from outreach.collector import tune_for_pipeline

        tune_for_pipeline()  # as `outreach worker` does

        channels = {"email": NullChannel("email"), "sms": NullChannel("sms")}
        dispatcher = rt.dispatcher(channels, worker_id="scale")
        dispatcher.campaigns = campaigns()
        batch = 1000
        dispatcher.settings = type(dispatcher.settings)(batch_size=batch)
        t0, c0 = time.perf_counter(), time.process_time()
        report = asyncio.run(dispatcher.run_until_idle(max_batches=10_000_000, limit=limit))
        result["rows"] = report.claimed
        result["what"] = f"{report.claimed:,} claimed, {dict(report.outcomes)}"
    result["wall_s"] = time.perf_counter() - t0
    result["cpu_s"] = time.process_time() - c0
    result["peak_mb"] = peak_mb()
    with rt.factory() as s:
        states = s.execute(select(Message.state, func.count()).group_by(Message.state)).all()
    result["messages"] = {state: count for state, count in states}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=1_000_000, help="CSV rows")
    parser.add_argument("--database-url", default=None, help="default: SQLite in --workdir")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/outreach-scale"))
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--dispatch-limit", type=int, default=None, help="messages to dispatch")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{args.workdir / 'outreach.db'}"
    if args.stage:
        print(json.dumps(stage(args.stage, url, args.workdir, args.n, args.dispatch_limit)))
        return
    print(f"database: {url.split('@')[-1]}; N = {args.n:,} rows")
    targets = {"import": 120.0, "plan": 120.0}
    for name in args.stages.split(","):
        if name not in STAGES:
            parser.error(f"unknown stage {name!r}; stages: {', '.join(STAGES)}")
        command = [sys.executable, __file__, str(args.n), "--stage", name]
        command += ["--database-url", url, "--workdir", str(args.workdir)]
        if args.dispatch_limit:
            command += ["--dispatch-limit", str(args.dispatch_limit)]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        rate = r["rows"] / r["wall_s"] if r["wall_s"] else 0.0
        target = targets.get(name)
        verdict = ""
        if target is not None:
            verdict = f" (target <= {target:.0f}s: {'met' if r['wall_s'] <= target else 'MISSED'})"
        print(
            f"{name:9s} {r['wall_s']:7.1f}s wall, {r['cpu_s']:7.1f}s CPU, {rate:8,.0f}/s;"
            f" peak RSS {r['peak_mb']:4.0f} MB"
            f" ({'met' if r['peak_mb'] <= 500 else 'MISSED'} <= 500){verdict}"
        )
        print(f"          {r['what']}; messages by state {r['messages']}")
        if "csv_s" in r:
            print(f"          (CSV written first in {r['csv_s']:.1f}s, not counted)")


if __name__ == "__main__":
    main()
