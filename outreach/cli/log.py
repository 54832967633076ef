"""`outreach log`: the message log (or, with --inbound, what came in), newest first, as a table
or one JSON object per line. Contact values arrive masked from `outreach.queries.log`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click
from rich.table import Table

from outreach.cli.common import BadInput, console, load_runtime
from outreach.vocabulary import Channel

if TYPE_CHECKING:
    from outreach.queries.log import LogFilter
    from outreach.runtime import Runtime


@click.command()
@click.option("--debtor", help="Debtor external id.")
@click.option("--account", help="Account external id.")
@click.option("--channel", type=click.Choice([c.value for c in Channel]))
@click.option("--state", help="Message state, e.g. sent, deferred, blocked.")
@click.option("--campaign")
@click.option("--rule", help="A compliance rule id, e.g. F1.")
@click.option("--since", type=click.DateTime(), help="Due on or after (UTC).")
@click.option("--until", type=click.DateTime(), help="Due before (UTC).")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option(
    "--inbound",
    is_flag=True,
    help="Show what came in (SMS replies, unsubscribes, bounces) and the action taken.",
)
@click.pass_context
def log(
    ctx: click.Context,
    /,
    as_json: bool,
    inbound: bool,
    limit: int,
    since: datetime | None,
    until: datetime | None,
    **filters: str | None,
) -> None:
    """Read the message log, newest first. Contact values are masked."""
    from outreach.queries.log import LogFilter, iter_log

    runtime = load_runtime(ctx)
    f = LogFilter(
        limit=limit,
        since=since.replace(tzinfo=UTC) if since else None,
        until=until.replace(tzinfo=UTC) if until else None,
        **filters,
    )
    if inbound:
        _print_inbound(runtime, f, as_json)
        return
    with runtime.factory() as session:
        try:
            rows = list(iter_log(session, f))
        except ValueError as exc:  # a rule filter that is not a rule id
            raise BadInput(str(exc)) from exc
    if as_json:
        for row in rows:
            click.echo(json.dumps(row))
        return
    table = Table("id", "debtor", "channel", "step", "to", "state", "due (UTC)", "rules / reason")
    for r in rows:
        why = ", ".join(r["rules"]) or ""
        if r["reasons"]:
            why += (": " if why else "") + r["reasons"][0]
        table.add_row(
            str(r["id"]),
            r["debtor"],
            r["channel"],
            r["step"] or "",
            r["to"],
            r["state"],
            r["due_at"][:16],
            why or (r["error"] or ""),
        )
    console().print(table)


def _print_inbound(runtime: Runtime, f: LogFilter, as_json: bool) -> None:
    from outreach.queries.log import iter_inbound

    with runtime.factory() as session:
        rows = list(iter_inbound(session, f))
    if as_json:
        for row in rows:
            click.echo(json.dumps(row))
        return
    table = Table(
        "id", "received (UTC)", "channel", "from", "debtor", "intent", "action", "replies"
    )
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["received_at"][:16],
            r["channel"],
            r["from"],
            r["debtor"] or "",
            r["intent"] or "",
            r["action"] + (" [inbox]" if r["needs_agent"] else ""),
            ", ".join(map(str, r["replies"])),
        )
    console().print(table)
