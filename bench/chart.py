"""Draw the latest recorded figures (bench/record.py) as docs/benchmarks.svg.

    .venv/bin/python bench/chart.py [--results var/bench/results.jsonl] [--out docs/benchmarks.svg]

One horizontal bar per figure, as a share of its target (1.0 = the target met; for a figure
where lower is better, target / value), with the peer's or floor's figure from the same run
drawn the same way beside it. Needs matplotlib (`pip install -e '.[bench]'`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.record import RESULTS, ROOT


def latest(path: Path) -> list[dict[str, Any]]:
    """The last line recorded for each name, in the order names first appeared."""
    found: dict[str, dict[str, Any]] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            item = json.loads(line)
            found[item["name"]] = item
    return list(found.values())


def _number(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def share(value: float, target: float, higher_is_better: bool) -> float:
    return value / target if higher_is_better else target / value


def draw(items: list[dict[str, Any]], out: Path) -> None:
    try:
        import matplotlib
    except ImportError:
        raise SystemExit("bench/chart.py needs matplotlib: pip install -e '.[bench]'") from None

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    items = [i for i in items if i.get("target")]
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(items) + 1.2))
    ys = range(len(items))
    ours = [share(i["value"], i["target"], i["higher_is_better"]) for i in items]
    peers = [
        share(i["peer"], i["target"], i["higher_is_better"]) if i.get("peer") else 0.0
        for i in items
    ]
    ax.barh([y + 0.2 for y in ys], ours, height=0.4, label="outreach", color="#2b6cb0")
    ax.barh([y - 0.2 for y in ys], peers, height=0.4, label="peer / floor", color="#a0aec0")
    ax.axvline(1.0, color="#c53030", linestyle="--", linewidth=1, label="target")
    labels = [
        f"{i['name']}\n{_number(i['value'])} {i['unit']} (target {_number(i['target'])})"
        for i in items
    ]
    ax.set_yticks(list(ys), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("share of the target (right of the red line: met)")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.svg")
    args = parser.parse_args()
    if not args.results.exists():
        raise SystemExit(f"{args.results}: no figures recorded yet (run a bench first)")
    draw(latest(args.results), args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
