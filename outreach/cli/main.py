"""The `outreach` command. Exit codes: 0 success, 1 operational failure, 2 bad input or usage."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from outreach.clock import SystemClock
from outreach.config.files import ConfigError
from outreach.config.loader import Config
from outreach.masking import configure_logging

if TYPE_CHECKING:
    from outreach.queries.log import LogFilter
    from outreach.runtime import Runtime

console = Console()
err = Console(stderr=True)


class BadInput(click.ClickException):
    exit_code = 2


def _config(ctx: click.Context) -> Config:
    try:
        config = Config(ctx.obj.get("config_dir"))
        config.validate_all()
    except ConfigError as exc:
        raise BadInput(str(exc)) from exc
    return config


@click.group()
@click.option(
    "--config-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="OUTREACH_CONFIG_DIR",
    help="Configuration folder (default ./config).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log at debug level.")
@click.pass_context
def main(ctx: click.Context, config_dir: Path | None, verbose: bool) -> None:
    """Compliant multichannel debt-collection outreach."""
    configure_logging(10 if verbose else 30)
    ctx.ensure_object(dict)
    ctx.obj["config_dir"] = config_dir


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the database schema (Alembic migrations) and the output folders."""
    from outreach.runtime import Runtime

    config = _config(ctx)
    runtime = Runtime(config, SystemClock())
    runtime.migrate()
    Path(config.file.letter.output_dir).mkdir(parents=True, exist_ok=True)
    console.print(f"Database ready: {config.database_url}")


@main.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.pass_context
def import_(ctx: click.Context, file: Path, as_json: bool) -> None:
    """Import debtors, accounts and contact points from a CSV file (idempotent)."""
    from outreach.portfolio.importer import import_csv
    from outreach.portfolio.report import ImportFileError
    from outreach.runtime import Runtime

    config = _config(ctx)
    runtime = Runtime(config, SystemClock())
    runtime.migrate()
    try:
        total = sum(1 for _ in file.open("rb")) - 1
    except OSError as exc:
        raise BadInput(f"{file}: {exc.strerror}") from exc
    with _progress(as_json) as progress:
        task = progress.add_task("importing", total=max(total, 0))
        try:
            report = import_csv(
                runtime.factory,
                file,
                clock=runtime.clock,
                default_region=config.file.default_region,
                progress=lambda n: progress.update(task, completed=n),
            )
        except ImportFileError as exc:
            raise BadInput(str(exc)) from exc
    if as_json:
        click.echo(
            json.dumps(
                {
                    "rows": report.rows,
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "rejected": [
                        {"line": e.line, "field": e.field, "reason": e.reason}
                        for e in report.rejected
                    ],
                }
            )
        )
        return
    console.print(
        f"{report.rows} rows: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.rejected_rows} rows rejected"
    )
    for e in report.rejected:
        click.echo(f"{file}:{e.line}: {e.field}: {e.reason}", err=True)


@main.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Validate all configuration and render every template against sample data."""
    from outreach.render.template_check import check_templates
    from outreach.runtime import Runtime

    config = _config(ctx)
    runtime = Runtime(config, SystemClock())
    errors = check_templates(runtime.renderer, config.policy)
    for campaign in config.campaigns.values():
        names = set(runtime.renderer.template_names())
        for step in campaign.steps:
            if step.template not in names:
                errors.append(
                    f"{config.dir}/campaigns/{campaign.name}.yaml: steps.{step.id}.template: "
                    f"no template {step.template!r}"
                )
    if errors:
        for line in errors:
            click.echo(line, err=True)
        sys.exit(2)
    console.print(
        f"OK: {len(config.campaigns)} campaigns, {len(config.policy.frequency_caps)} caps, "
        f"{len(runtime.renderer.template_names())} templates render"
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-scheduler", is_flag=True, help="Serve the web app only.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, no_scheduler: bool) -> None:
    """Run the scheduler, the web app and (in sandbox mode) the local stand-ins."""
    import uvicorn

    from outreach.runtime import Runtime
    from outreach.web.app import create_app

    config = _config(ctx)
    runtime = Runtime(config, SystemClock())
    runtime.migrate()
    app = create_app(runtime, self_url=f"http://{host}:{port}", run_scheduler=not no_scheduler)
    configure_logging(20)
    uvicorn.run(app, host=host, port=port, log_config=None)


@main.command()
@click.option(
    "--once", is_flag=True, required=True, help="Plan and dispatch what is due, then exit."
)
@click.pass_context
def run(ctx: click.Context, once: bool) -> None:
    """Plan and dispatch everything due now (for cron), then exit."""
    from outreach.channels.factory import build_channels
    from outreach.pipeline import planner
    from outreach.runtime import Runtime, standalone_sandbox

    config = _config(ctx)
    runtime = Runtime(config, SystemClock())
    runtime.migrate()

    async def go() -> dict[str, Any]:
        plan = planner.tick(runtime.factory, config.campaigns, runtime.clock)
        async with standalone_sandbox(config, ephemeral=True) as sandbox:
            channels = build_channels(
                config,
                clock=runtime.clock,
                sms_base_url=sandbox.sms_base_url if config.file.sms.mode == "sandbox" else None,
                smtp_port=sandbox.smtp_port,
            )
            try:
                report = await runtime.dispatcher(channels).run_until_idle()
            finally:
                for channel in channels.values():
                    await channel.aclose()
        return {
            "enrolled": plan.enrolled,
            "planned": plan.planned,
            "claimed": report.claimed,
            **dict(report.outcomes),
        }

    console.print(asyncio.run(go()))


@main.command()
@click.option("--debtor", help="Debtor external id.")
@click.option("--account", help="Account external id.")
@click.option("--channel", type=click.Choice(["sms", "email", "letter"]))
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
    as_json: bool,
    inbound: bool,
    limit: int,
    since: datetime | None,
    until: datetime | None,
    **filters: str | None,
) -> None:
    """Read the message log, newest first. Contact values are masked."""
    from outreach.queries.log import LogFilter, iter_log
    from outreach.runtime import Runtime

    config = _config(ctx)
    runtime = Runtime(config, SystemClock())
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
    console.print(table)


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
    console.print(table)


@main.group()
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
    from outreach.runtime import Runtime

    config = _config(ctx)
    runtime = Runtime(config, SystemClock())
    runtime.migrate()
    source = MaildirBounces(maildir) if maildir else bounce_source(config)
    if source is None:
        raise BadInput("no bounce mailbox: set inbound.bounce_maildir or pass --maildir")
    report = source.process(runtime.factory, runtime.clock.now())
    if as_json:
        click.echo(json.dumps(asdict(report)))
    else:
        console.print(
            f"{report.read} read: {report.hard} hard, {report.soft} soft, "
            f"{report.duplicates} already processed, {report.not_dsn} not DSNs"
        )


@main.command()
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
    from outreach.sandbox.demo import DEMO_START, run_demo

    config = _config(ctx)
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    config = config.relocate(directory)
    portfolio = portfolio or config.dir / "sample" / "portfolio.csv"
    with _progress(False) as progress:
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


def _print_summary(summary: Any) -> None:
    imp = summary.imported
    console.print(
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
    console.print(table)
    rules = Table("decision", "rule", "count", title="Deferrals and blocks by rule")
    for key, count in sorted(summary.by_rule.items()):
        verdict, rule = key.split(" ", 1)
        rules.add_row(verdict, rule, str(count))
    console.print(rules)
    if summary.skipped_reasons:
        skipped = Table("reason", "count", title="Skipped steps")
        for reason, count in summary.skipped_reasons.most_common():
            skipped.add_row(reason, str(count))
        console.print(skipped)
    console.print("\nOutputs:")
    for name, where in summary.outputs.items():
        console.print(f"  {name}: {where}")


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=quiet or not err.is_terminal,
    )


from outreach.cli.users import users  # noqa: E402

main.add_command(users)


from outreach.cli.records import attempts, compliance, inconvenient  # noqa: E402

main.add_command(compliance)
main.add_command(attempts)
main.add_command(inconvenient)
