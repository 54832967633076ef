"""Benchmark the compliance engine: decisions per second on one core, history preloaded.

    .venv/bin/python bench/compliance.py [N] [--repeat R] [--profile]

Builds N realistic snapshots in memory (ZIPs and phones across the US time zones, split area
codes, states with overrides: MA, WA, NYC, CA, FL; histories of messages and calls; holds,
stated inconvenient times, promises), computes each debtor's candidate zones once (as the
dispatcher does per batch), then times `evaluate` over all of them at instants spread over a
week. The baseline, in the same process over the same data, is the least any window check
must do: convert `now` into each candidate zone and compare the local time with 08:00-21:00.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from outreach.compliance import (  # noqa: E402
    AccountSnapshot,
    Attempt,
    Contact,
    DebtorSnapshot,
    EmailAddress,
    InconvenientTime,
    Policy,
    candidate_zones,
    evaluate,
)
from outreach.compliance.timezones import preload  # noqa: E402
from outreach.compliance.window import zone_info  # noqa: E402
from outreach.config.files import load_yaml_model  # noqa: E402

T = TypeVar("T")
START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # a Monday
# (state, ZIP, area code + exchange): New York City, Boston, Seattle, Los Angeles, Miami,
# Chicago, Denver, Phoenix, Boise and north Idaho (split area code), Honolulu, Anchorage.
PLACES = [
    ("NY", "10001", "212555"),
    ("MA", "02108", "617555"),
    ("WA", "98101", "206555"),
    ("CA", "90012", "213555"),
    ("FL", "33131", "305555"),
    ("IL", "60601", "312555"),
    ("CO", "80202", "303555"),
    ("AZ", "85004", "602555"),
    ("ID", "83702", "208343"),
    ("ID", "83814", "208664"),
    ("HI", "96813", "808555"),
    ("AK", "99501", "907555"),
    ("PA", "19103", "215555"),
]
CHANNELS = ["sms", "sms", "email", "email", "letter", "call"]


Row = tuple[Attempt, DebtorSnapshot, AccountSnapshot, tuple[Contact, ...], datetime]


def build(n: int, seed: int = 7) -> list[Row]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        state, zip_code, prefix = rng.choice(PLACES)
        phones = [f"+1{prefix}{i % 10_000:04d}"]
        if rng.random() < 0.15:  # a second phone from elsewhere: conflicting evidence (F2)
            phones.append(f"+1{rng.choice(PLACES)[2]}{(i * 7) % 10_000:04d}")
        email = f"debtor{i}@example.com"
        debtor = DebtorSnapshot(
            state=state,
            zip=zip_code if rng.random() < 0.9 else None,
            phones=tuple(phones),
            emails=(EmailAddress(email, work=rng.random() < 0.05, consented=True),),
            holds=frozenset({"cease"} if rng.random() < 0.02 else ()),
            opted_out=frozenset({phones[0]} if rng.random() < 0.03 else ()),
            inconvenient_times=(
                (InconvenientTime(clock_time(9), clock_time(17), frozenset(range(5))),)
                if rng.random() < 0.1
                else ()
            ),
            consented=frozenset({phones[0], email}),
        )
        now = START + timedelta(minutes=rng.randrange(7 * 24 * 60))
        history = tuple(
            sorted(
                (
                    Contact(
                        now - timedelta(hours=rng.uniform(1, 24 * 8)),
                        rng.choice(CHANNELS),
                        "conversation" if rng.random() < 0.1 else "attempt",
                        i,
                    )
                    for _ in range(rng.randrange(6))
                ),
                key=lambda c: c.at,
            )
        )
        account = AccountSnapshot(
            id=i,
            state=state,
            time_barred=rng.random() < 0.05,
            holds=frozenset({"dispute"} if rng.random() < 0.02 else ()),
            promise_due_on=(now.date() + timedelta(days=2)) if rng.random() < 0.05 else None,
        )
        channel = rng.choice(CHANNELS)
        to = {"sms": phones[0], "call": phones[0], "email": email}.get(channel)
        rows.append((Attempt(channel, to=to), debtor, account, history, now))
    return rows


def baseline(rows: list[Row], zones: list[tuple[str, ...]]) -> int:
    start, end = clock_time(8), clock_time(21)
    inside = 0
    for (_, _, _, _, now), debtor_zones in zip(rows, zones, strict=True):
        if all(start <= now.astimezone(zone_info(z)).time() < end for z in debtor_zones):
            inside += 1
    return inside


def run(rows: list[Row], zones: list[tuple[str, ...]], policy: Policy) -> Counter[str]:
    verdicts: Counter[str] = Counter()
    for (attempt, debtor, account, history, now), debtor_zones in zip(rows, zones, strict=True):
        decision = evaluate(attempt, debtor, account, history, policy, now, zones=debtor_zones)
        verdicts[decision.verdict.value] += 1
    return verdicts


def timed(fn: Callable[..., T], *args: object) -> tuple[float, T]:
    """CPU seconds of this process (the machine is shared: wall time counts other work)."""
    began = time.process_time()
    result = fn(*args)
    return time.process_time() - began, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5, help="timed passes; the best is kept")
    parser.add_argument("--profile", action="store_true", help="cProfile one pass")
    parser.add_argument("--sort", default="cumulative", help="profile order (e.g. tottime)")
    args = parser.parse_args()

    policy = load_yaml_model(ROOT / "config" / "policy.yaml", Policy)
    preload()
    rows = build(args.n)
    began = time.perf_counter()
    zones = [candidate_zones(debtor) for _, debtor, _, _, _ in rows]
    zone_time = time.perf_counter() - began
    run(rows[:2000], zones[:2000], policy)  # warm the caches a batch would warm

    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(run, rows, zones, policy)
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(25)
        return

    engine_s, verdicts = min(timed(run, rows, zones, policy) for _ in range(args.repeat))
    base_s, _ = min(timed(baseline, rows, zones) for _ in range(args.repeat))
    n = args.n
    print(f"N = {n:,} attempts ({date.today()}, Python {sys.version.split()[0]}, one core)")
    print(f"candidate zones, once per debtor: {zone_time:.2f} s ({n / zone_time:,.0f}/s)")
    per = 1e6 * engine_s / n
    print(f"evaluate:  {engine_s:.3f} s  {n / engine_s:>10,.0f} decisions/s  {per:.1f} µs")
    print(f"baseline:  {base_s:.3f} s  {n / base_s:>10,.0f} checks/s (zone conversions + compare)")
    print(f"ratio evaluate / baseline: {engine_s / base_s:.1f}x")
    print("verdicts: " + ", ".join(f"{k} {v:,}" for k, v in sorted(verdicts.items())))


if __name__ == "__main__":
    main()
