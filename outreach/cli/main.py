"""The `outreach` command: the root group and its --config-dir, --verbose and --log-format
options; each command group lives in its own module. Exit codes: 0 success, 1 operational
failure, 2 bad input."""

from __future__ import annotations

from pathlib import Path

import click

from outreach.cli.bounces import bounces
from outreach.cli.compliance import compliance
from outreach.cli.demo import demo
from outreach.cli.log import log
from outreach.cli.providers import providers
from outreach.cli.records import attempts, inconvenient
from outreach.cli.sandbox import sandbox
from outreach.cli.serve import run, serve
from outreach.cli.setup import check, import_, init, migrate
from outreach.cli.unknowns import unknown
from outreach.cli.users import users
from outreach.cli.worker import worker
from outreach.masking import LOG_FORMATS, configure_logging


@click.group()
@click.option(
    "--config-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="OUTREACH_CONFIG_DIR",
    help="Configuration folder (default ./config).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log at debug level.")
@click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS),
    default="text",
    show_default=True,
    envvar="OUTREACH_LOG_FORMAT",
    help="Log lines on stderr as text or as one JSON object per line (masked either way).",
)
@click.pass_context
def main(ctx: click.Context, config_dir: Path | None, verbose: bool, log_format: str) -> None:
    """Compliant multichannel debt-collection outreach."""
    configure_logging(10 if verbose else 30, log_format)
    ctx.ensure_object(dict)
    ctx.obj["config_dir"] = config_dir


for command in (
    init,
    migrate,
    import_,
    check,
    serve,
    worker,
    run,
    log,
    bounces,
    demo,
    sandbox,
    users,
    compliance,
    attempts,
    inconvenient,
    unknown,
    providers,
):
    main.add_command(command)


if __name__ == "__main__":  # `python -m outreach.cli.main`, as the process tests run it
    main()
