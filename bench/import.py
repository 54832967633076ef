"""Benchmark `outreach import`: N portfolio rows, beside the floor, in one run.

    .venv/bin/python bench/import.py [N] [--database-url URL] [--bad-every K] [--pairs P]

Writes an N-row CSV in the import format (bench/portfolio_csv.py), then, P times interleaved:
the import (`outreach.portfolio.importer.import_csv`, what `outreach import` runs) into a fresh
database, a re-import of the same file (every row unchanged), and the floor: the same CSV read
with the csv module and the same debtor, account and contact rows inserted with plain Core
executemany (no validation, no lookups, no idempotence). Prints rows/s by wall clock and by CPU
time (the machine may be shared), the ratios to the floor, and each stage's peak RSS (each runs
in its own process, so the figure is that stage's own).
"""

from __future__ import annotations

import argparse
import atexit
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import portfolio_csv  # noqa: E402

from bench.record import record  # noqa: E402

NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fresh(url: str) -> None:
    """An empty database at `url` (SQLite: a new file; PostgreSQL: an empty public schema)."""
    from sqlalchemy import text

    from outreach.db.engine import make_engine

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def stage(kind: str, url: str, path: Path) -> dict[str, float]:
    """One timed stage in this process: 'import', 'reimport' (after an import) or 'floor'."""
    from outreach.clock import SimulatedClock
    from outreach.db.engine import make_engine, session_factory, upgrade
    from outreach.portfolio.importer import import_csv

    engine = make_engine(url)
    if kind != "reimport":
        fresh(url)
        engine = make_engine(url)
        upgrade(engine)
    factory = session_factory(engine)
    clock = SimulatedClock(NOW)
    if kind == "reimport":
        import_csv(factory, path, clock=clock)
    before = peak_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    if kind == "floor":
        rows = portfolio_csv.floor(engine, path, NOW)
        counts: dict[str, float] = {}
    else:
        report = import_csv(factory, path, clock=clock)
        rows = report.rows
        counts = {
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "rejected": report.rejected_rows,
        }
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    engine.dispose()
    timing = {"rows": rows, "wall": wall, "cpu": cpu, "peak_mb": peak_mb(), "before_mb": before}
    return timing | counts


def run_stage(kind: str, url: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--stage", kind, "--database-url", url, "--csv", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def summary(label: str, runs: list[dict[str, float]]) -> str:
    walls = [r["rows"] / r["wall"] for r in runs]
    cpus = [r["rows"] / r["cpu"] for r in runs]
    return (
        f"{label:9s} {statistics.median(walls):8,.0f} rows/s wall"
        f" (min {min(walls):,.0f}, max {max(walls):,.0f}),"
        f" {statistics.median(cpus):8,.0f} rows/s CPU;"
        f" peak RSS {max(r['peak_mb'] for r in runs):.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=200_000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--bad-every", type=int, default=10_000, help="one bad row every K")
    parser.add_argument("--pairs", type=int, default=1)
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(stage(args.stage, args.database_url, args.csv)))
        return

    tmp = Path(tempfile.mkdtemp(prefix="outreach-import-bench-"))
    atexit.register(shutil.rmtree, tmp, True)  # the file and the database go with the run
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    t0 = time.perf_counter()
    path = portfolio_csv.write(tmp / "portfolio.csv", args.n, bad_every=args.bad_every)
    size = path.stat().st_size / 1e6
    print(f"database: {url.split('@')[-1]}")
    print(f"file: {args.n:,} rows, {size:.0f} MB, written in {time.perf_counter() - t0:.1f}s")
    runs: dict[str, list[dict[str, float]]] = {"import": [], "reimport": [], "floor": []}
    for _ in range(args.pairs):
        for kind in ("floor", "import", "reimport"):
            runs[kind].append(run_stage(kind, url, path))
    first, again = runs["import"][0], runs["reimport"][0]
    print(
        f"import:   created {first['created']:,.0f}, rejected {first['rejected']:,.0f} rows;"
        f" re-import: unchanged {again['unchanged']:,.0f}, created {again['created']:,.0f},"
        f" updated {again['updated']:,.0f}"
    )
    for kind, label in (("import", "import"), ("reimport", "re-import"), ("floor", "floor")):
        print(summary(label, runs[kind]))
    med = {k: statistics.median(r["wall"] for r in v) for k, v in runs.items()}
    cpu = {k: statistics.median(r["cpu"] for r in v) for k, v in runs.items()}
    print(
        f"ratio:    import time / floor time = {med['import'] / med['floor']:.2f}x wall,"
        f" {cpu['import'] / cpu['floor']:.2f}x CPU"
        f" (re-import {med['reimport'] / med['floor']:.2f}x wall)"
    )
    db = url.split(":")[0].split("+")[0]
    record(
        f"import rows/s ({db})",
        args.n / med["import"],
        "rows/s",
        peer=args.n / med["floor"],
        peer_name="Core executemany floor",
        target=20_000,
        command=f"python bench/import.py {args.n}",
    )


if __name__ == "__main__":
    main()
