"""`outreach demo`: the end-to-end simulation on a fresh SQLite file, and its summary tables."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from outreach.cli.common import console, load_config, progress_bar

if TYPE_CHECKING:
    from outreach.simulation.demo import DemoSummary


@click.command()
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 365))
@click.option(
    "--dir",
    "directory",
    default="var/demo",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Fresh output folder.",
)
@click.option(
    "--portfolio",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV to import (default config/sample/portfolio.csv).",
)
@click.pass_context
def demo(ctx: click.Context, days: int, directory: Path, portfolio: Path | None) -> None:
    """Simulate DAYS days of the campaigns on a fresh SQLite file, end to end."""
    from outreach.collector import tune_for_pipeline
    from outreach.simulation.demo import DEMO_START, run_demo

    config = load_config(ctx)
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    config = config.relocate(directory)
    # The demo talks to the stand-ins whatever outreach.toml says: never to a real provider.
    f = config.file
    config.file = f.model_copy(
        update={
            "sms": f.sms.model_copy(update={"mode": "sandbox"}),
            "email": f.email.model_copy(update={"mode": "sandbox"}),
        }
    )
    portfolio = portfolio or config.dir / "sample" / "portfolio.csv"
    tune_for_pipeline()
    with progress_bar(False) as progress:
        task = progress.add_task("simulating", total=days + 1)
        summary = asyncio.run(
            run_demo(
                config,
                portfolio,
                days=days,
                progress=lambda now: progress.update(
                    task, completed=min(days + 1, (now - DEMO_START).total_seconds() / 86400)
                ),
            )
        )
    _print_summary(summary)


def _print_summary(summary: DemoSummary) -> None:
    imp = summary.imported
    console().print(
        f"\nImported {imp.rows} rows: {imp.created} created, {imp.rejected_rows} rejected"
        + "".join(f"\n  line {e.line}: {e.field}: {e.reason}" for e in imp.rejected)
    )
    states = [
        "sent",
        "delivered",
        "unknown",
        "failed",
        "blocked",
        "skipped",
        "cancelled",
        "planned",
        "deferred",
    ]
    table = Table("channel", *states, "times deferred", title="Messages by channel")
    for channel in sorted(summary.by_channel):
        counts = summary.by_channel[channel]
        table.add_row(
            channel,
            *(str(counts.get(s, 0)) for s in states),
            str(summary.deferrals.get(channel, 0)),
        )
    console().print(table)
    rules = Table("decision", "rule", "count", title="Deferrals and blocks by rule")
    for key, count in sorted(summary.by_rule.items()):
        verdict, rule = key.split(" ", 1)
        rules.add_row(verdict, rule, str(count))
    console().print(rules)
    if summary.skipped_reasons:
        skipped = Table("reason", "count", title="Skipped steps")
        for reason, count in summary.skipped_reasons.most_common():
            skipped.add_row(reason, str(count))
        console().print(skipped)
    console().print("\nOutputs:")
    for name, where in summary.outputs.items():
        console().print(f"  {name}: {where}")
