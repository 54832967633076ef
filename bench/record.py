"""Where the benches leave their headline figures, for docs/benchmarks.md's chart.

Each bench appends one JSON line per figure to var/bench/results.jsonl (`record`); the chart
(`bench/chart.py`) draws the latest line of each name against its peer or floor and target.
"""

from __future__ import annotations

import json
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "var" / "bench" / "results.jsonl"


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def record(
    name: str,
    value: float,
    unit: str,
    *,
    higher_is_better: bool = True,
    peer: float | None = None,
    peer_name: str | None = None,
    target: float | None = None,
    command: str = "",
) -> None:
    """Append one figure: `value` (ours), optionally the peer's or floor's in the same run
    and the target the issue sets."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    line = {
        "name": name,
        "value": value,
        "unit": unit,
        "higher_is_better": higher_is_better,
        "peer": peer,
        "peer_name": peer_name,
        "target": target,
        "command": command,
        "commit": _commit(),
        "host": platform.node(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    with RESULTS.open("a") as out:
        out.write(json.dumps(line) + "\n")
