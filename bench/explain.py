"""Benchmark `outreach compliance explain --jsonl`: scenarios/s once started, beside the floor.

    .venv/bin/python bench/explain.py [N] [--mix portfolio|audit] [--bad-every K] [--repeat R]
                                      [--write FILE]

Two mixes. `portfolio` (the default) writes N debtors of a portfolio in full (the places,
histories, holds, stated times and promises of bench/compliance.py, at instants spread over
a week; sms, email, letter and call; no two debtors sharing a phone number, 10% of them
typed the way people type them; 5% with content to check). `audit` writes the small
scenarios a compliance reviewer writes, one rule family each in turn (windows, DST edges,
caps, 7-in-7, holds, content and segments, conflicting zones, promises and stated times),
like the 134 of the audit in issue 12. Both put one blank line and one bad line every K
(invalid JSON, `"kind": "Collection"`, a bad ZIP, an array). Either is then run through the
command as a real subprocess, standard input and output on files, R times beside a run on an
empty input (the start-up: interpreter, imports, policy). The rate is (N - bad) / (run -
start-up), by CPU time of the child (the machine may be shared) and by wall clock, beside
the 20,000/s floor of issue 12. Checks every output line: input order, one answer per
non-blank line, the bad ones answered as errors, exit status 2. `--write FILE` only writes the
input (for profiling).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.compliance import CHANNELS, PLACES, START  # noqa: E402
from bench.record import record  # noqa: E402

FLOOR = 20_000  # scenarios/s on one core once started (issue 12)
# Local offsets of the places, for `now` written the way a caller in that place would.
OFFSETS = [timezone(timedelta(hours=h)) for h in (0, -5, -6, -7, -8, -10)]
KINDS = ["collection"] * 17 + ["validation_notice", "promise_followup", "reply"]
LATER = "This communication is from a debt collector."
CONTENT = [
    f"Acme Recovery: a payment of $120 is due. {LATER} Reply STOP to opt out.",
    f"Hi, this is Acme \u2013 your balance is overdue. {LATER} Reply STOP to opt out.",
    "Acme: pay now at https://pay.example.com.",
]
BAD = [
    "{not json",
    '{"now": "2026-11-24T10:00:00-05:00", "channel": "sms", "to": "+12155550143", '
    '"kind": "Collection"}',
    '{"now": "2026-11-24T10:00:00-05:00", "channel": "letter", "debtor": {"zip": "1001"}}',
    "[1, 2]",
]


def _typed(phone: str, rng: random.Random) -> str:
    """A phone as a person might type it (10%), else E.164."""
    if rng.random() >= 0.1:
        return phone
    digits = phone[2:]
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def _phone(prefix: str, i: int) -> str:
    """A number no other scenario has: bench/compliance.py's area code and exchange, the
    exchange's last digit varied (Idaho's split exchanges, 343 and 664, kept as they are)."""
    if prefix.startswith("208"):
        return f"+1{prefix}{i % 10_000:04d}"
    return f"+1{prefix[:5]}{(i // 10_000) % 10}{i % 10_000:04d}"


def scenario(i: int, rng: random.Random) -> dict[str, Any]:
    state, zip_code, prefix = rng.choice(PLACES)
    phones = [_phone(prefix, i)]
    if rng.random() < 0.15:  # a second phone from elsewhere: conflicting evidence (F2)
        phones.append(_phone(rng.choice(PLACES)[2], i + 5_000))
    email = f"debtor{i}@example.com"
    now = (START + timedelta(minutes=rng.randrange(7 * 24 * 60))).astimezone(rng.choice(OFFSETS))
    debtor: dict[str, Any] = {"state": state, "phones": [_typed(p, rng) for p in phones]}
    if rng.random() < 0.9:
        debtor["zip"] = zip_code
    debtor["emails"] = [{"address": email, "work": rng.random() < 0.05, "consented": True}]
    debtor["consented"] = [phones[0], email]
    if rng.random() < 0.02:
        debtor["holds"] = ["cease"]
    elif rng.random() < 0.02:
        debtor["holds"] = [f"opt_out:{rng.choice(CHANNELS)}"]
    if rng.random() < 0.03:
        debtor["opted_out"] = [phones[0]]
    if rng.random() < 0.1:
        debtor["inconvenient_times"] = [
            {"start": "09:00", "end": "17:00", "days": ["mon", "tue", "wed", "thu", "fri"]}
        ]
    account: dict[str, Any] = {"id": i, "state": state}
    if rng.random() < 0.05:
        account["time_barred"] = True
    if rng.random() < 0.05:
        account["promise_due_on"] = (now.date() + timedelta(days=2)).isoformat()
    if rng.random() < 0.2:
        account["validation_notice_sent_at"] = (now - timedelta(days=rng.randrange(60))).isoformat()
        if rng.random() < 0.05:
            account["disputed_at"] = (now - timedelta(days=rng.randrange(10))).isoformat()
    history = []
    for _ in range(rng.randrange(6)):
        past = rng.choice(CHANNELS)
        at = now - timedelta(hours=rng.uniform(1, 24 * 8))
        item = {"channel": past, "at": at.isoformat(timespec="seconds")}
        if past == "call":
            item["kind"] = "conversation" if rng.random() < 0.2 else "attempt"
        history.append(item)
    channel = rng.choice(CHANNELS)
    out: dict[str, Any] = {"now": now.isoformat(), "channel": channel}
    to = {"sms": _typed(phones[0], rng), "call": phones[0], "email": email}.get(channel)
    if to is not None:
        out["to"] = to
    out["kind"] = rng.choice(KINDS)
    out["debtor"] = debtor
    out["account"] = account
    if history:
        out["history"] = history
    if channel in ("sms", "email") and rng.random() < 0.05:
        out["content"] = rng.choice(CONTENT)
        out["first_contact"] = False
    return out


# The audit's families (issue 12: windows, DST edges, caps, 7-in-7, holds, content, segments,
# conflicting zones), each a small scenario the way a compliance reviewer writes one.
DST_EDGES = [START.replace(month=3, day=8, hour=12), START.replace(month=11, day=1, hour=13)]
LONG_SMS = "Acme Recovery: " + "your account needs attention; " * 8 + LATER + " Reply STOP."


def audit_scenario(i: int, rng: random.Random) -> dict[str, Any]:
    state, zip_code, prefix = rng.choice(PLACES)
    phone = _phone(prefix, i)
    family = i % 8
    now = START + timedelta(minutes=rng.randrange(7 * 24 * 60))
    if family == 1:  # DST edges: within 6 hours of a transition morning
        now = rng.choice(DST_EDGES) + timedelta(minutes=rng.randrange(-360, 360))
    channel = {3: "call", 5: "sms"}.get(family) or rng.choice(["sms", "email", "call", "letter"])
    out: dict[str, Any] = {"now": now.isoformat(), "channel": channel}
    debtor: dict[str, Any] = {"state": state, "zip": zip_code, "phones": [phone]}
    account: dict[str, Any] = {"id": 1, "state": state}
    history: list[dict[str, Any]] = []
    if family == 2:  # caps: several messages in the last week
        for _ in range(rng.randrange(3, 9)):
            at = now - timedelta(hours=rng.uniform(1, 24 * 7))
            history.append({"channel": rng.choice(["sms", "email"]), "at": at.isoformat()})
    elif family == 3:  # 7-in-7: call attempts, now and then a conversation
        for _ in range(rng.randrange(5, 10)):
            at = now - timedelta(hours=rng.uniform(1, 24 * 7))
            kind = "conversation" if rng.random() < 0.1 else "attempt"
            history.append({"channel": "call", "at": at.isoformat(), "kind": kind})
    elif family == 4:  # holds
        hold = rng.choice(["cease", "attorney", "bankruptcy", "dispute"])
        if hold == "dispute":
            account["validation_notice_sent_at"] = (now - timedelta(days=40)).isoformat()
            account["disputed_at"] = (now - timedelta(days=rng.randrange(1, 20))).isoformat()
        else:
            debtor["holds"] = [hold]
    elif family == 5:  # content and segments
        out["content"] = rng.choice([*CONTENT, LONG_SMS])
        out["first_contact"] = rng.random() < 0.3
    elif family == 6:  # conflicting evidence: a phone from elsewhere (F2)
        debtor["phones"].append(_phone(rng.choice(PLACES)[2], i + 5_000))
    elif family == 7:  # a promise, or a stated inconvenient time
        if rng.random() < 0.5:
            account["promise_due_on"] = (now.date() + timedelta(days=1)).isoformat()
        else:
            debtor["inconvenient_times"] = [{"start": "08:00", "end": "12:00"}]
    to = {"sms": phone, "call": phone, "email": f"debtor{i}@example.com"}.get(channel)
    if to is not None:
        out["to"] = to
    out["debtor"] = debtor
    out["account"] = account
    if history:
        out["history"] = history
    return out


MIXES = {"portfolio": scenario, "audit": audit_scenario}


def lines(n: int, bad_every: int, seed: int = 12, mix: str = "portfolio") -> tuple[list[str], int]:
    """N scenario lines with a blank line and a bad line every `bad_every`; (lines, bad)."""
    rng = random.Random(seed)
    make = MIXES[mix]
    out: list[str] = []
    bad = 0
    for i in range(n):
        if bad_every and i % bad_every == bad_every - 1:
            out.append("")
            out.append(BAD[bad % len(BAD)])
            bad += 1
        else:
            out.append(json.dumps(make(i, rng)))
    return out, bad


def run(command: list[str], source: Path) -> tuple[float, float, int, Path]:
    """(CPU seconds, wall seconds, exit status, output file) of one run of `command`."""
    out = Path(tempfile.mkstemp(prefix="explain-", suffix=".jsonl")[1])
    with source.open("rb") as stdin, out.open("wb") as stdout:
        began = time.perf_counter()
        child = subprocess.Popen(command, stdin=stdin, stdout=stdout, cwd=ROOT)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - began
    return usage.ru_utime + usage.ru_stime, wall, os.waitstatus_to_exitcode(status), out


def check(out: Path, source: list[str], bad: int) -> Counter[str]:
    """Every non-blank input line answered once, in order; the bad ones as errors."""
    expected = [number for number, line in enumerate(source, 1) if line.strip()]
    answers = [json.loads(line) for line in out.read_text().splitlines()]
    got = [answer["line"] for answer in answers]
    if got != expected:
        raise SystemExit(f"output lines {got[:5]}... do not follow the input {expected[:5]}...")
    seen = Counter("error" if "error" in a else a["verdict"] for a in answers)
    if seen["error"] != bad:
        raise SystemExit(f"{seen['error']} errors for {bad} bad lines")
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=200_000)
    parser.add_argument("--bad-every", type=int, default=1000, help="a bad line every K")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the median is reported")
    parser.add_argument("--write", type=Path, help="only write the input lines to FILE")
    parser.add_argument(
        "--mix",
        choices=sorted(MIXES),
        default="portfolio",
        help="portfolio: a portfolio's debtors in full (emails, consents, histories); "
        "audit: small scenarios, one rule family each, as a reviewer writes them",
    )
    args = parser.parse_args()

    source, bad = lines(args.n, args.bad_every, mix=args.mix)
    if args.write:
        args.write.write_text("\n".join(source) + "\n")
        return
    folder = Path(tempfile.mkdtemp(prefix="bench-explain-"))
    data, empty = folder / "scenarios.jsonl", folder / "empty.jsonl"
    data.write_text("\n".join(source) + "\n")
    empty.write_text("")
    command = [
        *(sys.executable, "-m", "outreach.cli.main", "--config-dir", str(ROOT / "config")),
        *("compliance", "explain", "--jsonl"),
    ]
    runs: list[tuple[float, float, float, float]] = []  # (cpu, wall, start cpu, start wall)
    verdicts: Counter[str] = Counter()
    for _ in range(args.repeat):
        start_cpu, start_wall, status, out = run(command, empty)
        if status != 0 or out.stat().st_size:
            raise SystemExit(f"an empty input gave exit {status} and {out.stat().st_size} bytes")
        out.unlink()
        cpu, wall, status, out = run(command, data)
        if status != (2 if bad else 0):
            raise SystemExit(f"exit status {status} (expected {2 if bad else 0})")
        verdicts = check(out, source, bad)
        out.unlink()
        runs.append((cpu, wall, start_cpu, start_wall))
    data.unlink()
    empty.unlink()
    folder.rmdir()

    scenarios = args.n - bad
    by_cpu = sorted(scenarios / (cpu - start_cpu) for cpu, _, start_cpu, _ in runs)
    by_wall = sorted(scenarios / (wall - start_wall) for _, wall, _, start_wall in runs)
    cpu, wall, start_cpu, start_wall = (statistics.median(r[k] for r in runs) for k in range(4))
    rate, rate_wall = statistics.median(by_cpu), statistics.median(by_wall)
    print(
        f"N = {args.n:,} answers ({args.mix} mix): {scenarios:,} scenarios, {bad:,} bad lines "
        f"(+{bad:,} blank)"
    )
    print(f"{date.today()}, Python {sys.version.split()[0]}, median of {args.repeat} runs")
    print(f"start-up (empty input):   {start_cpu:.3f} s CPU, {start_wall:.3f} s wall")
    print(f"whole run:                {cpu:.3f} s CPU, {wall:.3f} s wall")
    print(
        f"after start-up, by CPU:   {rate:>8,.0f} scenarios/s ({1e6 / rate:.1f} µs each;"
        f" runs {by_cpu[0]:,.0f} to {by_cpu[-1]:,.0f})"
    )
    print(f"after start-up, by wall:  {rate_wall:>8,.0f} scenarios/s")
    print(f"floor (issue 12):         {FLOOR:>8,} scenarios/s")
    print(f"ratio to the floor:       {rate / FLOOR:.2f}x by CPU, {rate_wall / FLOOR:.2f}x by wall")
    print("answers: " + ", ".join(f"{k} {v:,}" for k, v in sorted(verdicts.items())))
    record(
        f"compliance explain --jsonl after start-up (CPU, {args.mix} mix)",
        rate,
        "scenarios/s",
        target=FLOOR,
        command=f"python bench/explain.py {args.n} --bad-every {args.bad_every} --mix {args.mix}",
    )


if __name__ == "__main__":
    main()
