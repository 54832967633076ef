"""`outreach bounces process`: read the bounce mailbox once (`outreach serve` polls it)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from outreach.cli.common import BadInput, console, load_runtime


@click.group()
def bounces() -> None:
    """Delivery status notifications (bounces) at the bounce address."""


@bounces.command("process")
@click.option(
    "--maildir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Read this Maildir (default: inbound.bounce_maildir, or the sandbox catcher's).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.pass_context
def bounces_process(ctx: click.Context, maildir: Path | None, as_json: bool) -> None:
    """Read new DSNs once: hard bounces mark the address undeliverable, soft ones are noted."""
    from dataclasses import asdict

    from outreach.inbound.bounces import MaildirBounces, bounce_source

    runtime = load_runtime(ctx)
    source = MaildirBounces(maildir) if maildir else bounce_source(runtime.config)
    if source is None:
        raise BadInput("no bounce mailbox: set inbound.bounce_maildir or pass --maildir")
    report = source.process(runtime.factory, runtime.clock.now())
    if as_json:
        click.echo(json.dumps(asdict(report)))
    else:
        console().print(
            f"{report.read} read: {report.hard} hard, {report.soft} soft, "
            f"{report.duplicates} already processed, {report.not_dsn} not DSNs"
        )
