"""`outreach init`, `outreach migrate`, `outreach import`, `outreach check`: getting an
installation ready (schema, portfolio, configuration and templates that render)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from outreach.cli.common import (
    EXIT_BAD_INPUT,
    BadInput,
    Failure,
    console,
    database_status,
    load_runtime,
    progress_bar,
    require_schema,
)
from outreach.config.errors import ConfigError


@click.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the output folders, and the schema in a database that has none yet.

    A database that already has a schema is left as it is: upgrading one is `outreach migrate`.
    """
    from outreach.db.engine import display_url

    runtime = load_runtime(ctx, schema=False)
    config = runtime.config
    url = display_url(config.database_url)
    status = database_status(runtime.engine, config.database_url)
    if status.current is None:
        runtime.migrate()
        click.echo(f"Created the outreach schema (revision {status.head}) in {url}")
    else:
        require_schema(runtime.engine, config.database_url)
        click.echo(f"Database ready: {url} (revision {status.current})")
    Path(config.file.letter.output_dir).mkdir(parents=True, exist_ok=True)


@click.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Bring the database schema to the newest revision (Alembic); prints from and to."""
    from outreach.db.engine import display_url

    runtime = load_runtime(ctx, schema=False)
    url = display_url(runtime.config.database_url)
    before = database_status(runtime.engine, runtime.config.database_url)
    if not before.known:
        raise Failure(
            f"the database at {url} is at revision {before.current}, which this outreach does"
            f" not know (its newest is {before.head}): a newer outreach migrated it"
        )
    if before.ready:
        click.echo(f"{url}: already at revision {before.head}, the newest")
        return
    runtime.migrate()
    after = database_status(runtime.engine, runtime.config.database_url)
    click.echo(f"{url}: migrated from {before.current or 'no schema'} to {after.current}")


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.pass_context
def import_(ctx: click.Context, file: Path, as_json: bool) -> None:
    """Import debtors, accounts and contact points from a CSV file (idempotent)."""
    from outreach.portfolio.importer import import_csv
    from outreach.portfolio.report import ImportFileError

    runtime = load_runtime(ctx)
    try:
        total = sum(1 for _ in file.open("rb")) - 1
    except OSError as exc:
        raise BadInput(f"{file}: {exc.strerror}") from exc
    with progress_bar(as_json) as progress:
        task = progress.add_task("importing", total=max(total, 0))
        try:
            report = import_csv(
                runtime.factory,
                file,
                clock=runtime.clock,
                default_region=runtime.config.file.default_region,
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
    console().print(
        f"{report.rows} rows: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.rejected_rows} rows rejected"
    )
    for e in report.rejected:
        click.echo(f"{file}:{e.line}: {e.field}: {e.reason}", err=True)


@click.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Validate all configuration and render every template (and every SMS reply in every
    language) against sample data."""
    from outreach.inbound.replies import LANGUAGES, REPLIES, ReplyRenderer, check_replies
    from outreach.render.template_check import check_templates

    runtime = load_runtime(ctx, schema=False)  # configuration and templates only
    config = runtime.config
    errors = check_templates(runtime.renderer, config.policy)
    replies = ReplyRenderer.for_settings(runtime.renderer, config.file.agency, config.file.inbound)
    errors.extend(check_replies(replies))
    try:
        config.check_senders()  # what `worker` and `serve` will need from the environment
    except ConfigError as exc:
        errors.append(f"environment: {exc}")
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
        sys.exit(EXIT_BAD_INPUT)
    console().print(
        f"OK: {len(config.campaigns)} campaigns, {len(config.policy.frequency_caps)} caps, "
        f"{len(runtime.renderer.template_names())} templates and {len(REPLIES)} replies"
        f" ({', '.join(LANGUAGES)}) render"
    )
