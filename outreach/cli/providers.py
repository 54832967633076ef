"""`outreach providers [--json]`: each provider's circuit breaker and each worker's heartbeat,
from queries.providers (the console's providers page and GET /api/providers show the same).
A breaker that is not closed explains why a channel's messages wait."""

from __future__ import annotations

import json
from datetime import datetime

import click
from rich.table import Table

from outreach.cli.common import console, load_runtime


def _at(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}" if value is not None else ""


@click.command("providers")
@click.option("--json", "as_json", is_flag=True, help='One JSON object: {"providers", "workers"}.')
@click.pass_context
def providers(ctx: click.Context, as_json: bool) -> None:
    """Show the circuit breaker of each provider and the heartbeat of each worker (UTC)."""
    from outreach.queries import providers as read

    runtime = load_runtime(ctx)
    now = runtime.clock.now()
    with runtime.factory() as session:
        breakers = read.providers(session, now)
        workers = read.workers(session, now)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "providers": [p.to_dict() for p in breakers],
                    "workers": [w.to_dict() for w in workers],
                }
            )
        )
        return
    if breakers:
        table = Table(
            "key",
            "channel",
            "state",
            "failures",
            "open until (UTC)",
            "last error",
            title="Providers",
        )
        for column in (0, 4):  # what a person copies or compares whole
            table.columns[column].no_wrap = True
        table.columns[5].overflow = "fold"  # the whole error, however narrow the terminal
        for p in breakers:
            until = _at(p.retry_at)
            if p.state == "half_open" and p.trial_owner:
                until = f"trial by {p.trial_owner} until {until}"
            if p.retry_at is not None and not p.paused:
                until += " (trial due)"
            table.add_row(
                p.key, p.channel, p.state, str(p.consecutive_failures), until, p.last_error or ""
            )
        console().print(table)
    else:
        click.echo("Providers: no provider has been used yet.")
    if workers:
        table = Table("id", "host", "state", "heartbeat age", "channels", title="Workers")
        table.columns[0].no_wrap = True
        for w in workers:
            table.add_row(
                w.id,
                f"{w.host} ({w.pid})",
                w.state,
                read.age_text(w.heartbeat_age_seconds),
                ",".join(w.channels),
            )
        console().print(table)
    else:
        click.echo("Workers: no worker has run yet.")
