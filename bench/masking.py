"""Benchmark log masking: microseconds per logged line, today's `mask_log_text` beside the
masking of an earlier commit, on the same lines in the same process.

    .venv/bin/python bench/masking.py [--against COMMIT] [--number N]

Ordinary lines are what the worker and the web app log for each message or request; the long
ones are the audit's shapes (a 14,000-character path, a query of digits and '@'), where the
earlier patterns backtracked from every start position. Prints each line's figures and the
ratio new/old; a ratio under 1 is faster.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import timeit
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from outreach.masking import mask_log_text  # noqa: E402

ORDINARY = {
    "sent": "message 123456 sms to +12125550143: sent (SM0123456789abcdef0123456789abcdef) 0.042s",
    "inbound": "inbound sms 77 from +12125550143: opt_out -> opted out for 1 debtor(s); confirmed",
    "dates": "2026-12-01 08:13:39 claimed 200 sms for worker host-1-2 at 2026-12-01T08:13:39Z",
    "email": "email to maria.lopez@example.com for account ACC-00012345 deferred: F1 08:00-21:00",
}
LONG = {
    "path 14k": "GET /" + "1a" * 7_000 + " HTTP/1.1",
    "query 14k": "GET /healthz?" + "a@" * 7_000,
    "digits 14k": "x " + "1-" * 7_000,
}


def earlier_mask(commit: str) -> Callable[[str], str]:
    """`mask_text` of outreach/masking.py at `commit`, loaded as a module of its own."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{commit}:outreach/masking.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "masking_then.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("masking_then", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    function: Callable[[str], str] = module.mask_text
    return function


def per_call(function: Callable[[str], str], line: str, number: int) -> float:
    """The best of 3 timings, in microseconds per call."""
    return min(timeit.repeat(lambda: function(line), number=number, repeat=3)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="3fffb64", help="the commit to compare with")
    parser.add_argument("--number", type=int, default=20_000, help="calls per ordinary line")
    args = parser.parse_args()
    then = earlier_mask(args.against)
    print(f"{'line':<12} {'chars':>6} {'then us':>10} {'now us':>9} {'now/then':>9}")
    for name, line in {**ORDINARY, **LONG}.items():
        number = args.number if name in ORDINARY else 3
        old, new = per_call(then, line, number), per_call(mask_log_text, line, number)
        print(f"{name:<12} {len(line):>6} {old:>10.1f} {new:>9.1f} {new / old:>9.3f}")


if __name__ == "__main__":
    main()
