"""The `outreach` command: the root group and its --config-dir, --verbose and --log-format
options; each command group lives in its own module. Exit codes: 0 success, 1 operational
failure, 2 bad input.

The root group is lazy (click's LazyGroup pattern): a command's module is imported when that
command runs, or when `--help` lists it. The command modules import only click and other
light modules at the top; what a command needs (the database, the web app, the channels)
is imported inside it, so `outreach --help` and `outreach compliance explain` start fast."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from outreach.masking import LOG_FORMATS, configure_logging

# Command name -> "module:attribute" (`outreach --help` lists them sorted, as click does).
COMMANDS: Mapping[str, str] = {
    "init": "outreach.cli.setup:init",
    "migrate": "outreach.cli.setup:migrate",
    "import": "outreach.cli.setup:import_",
    "check": "outreach.cli.setup:check",
    "serve": "outreach.cli.serve:serve",
    "worker": "outreach.cli.worker:worker",
    "run": "outreach.cli.serve:run",
    "log": "outreach.cli.log:log",
    "bounces": "outreach.cli.bounces:bounces",
    "demo": "outreach.cli.demo:demo",
    "sandbox": "outreach.cli.sandbox:sandbox",
    "users": "outreach.cli.users:users",
    "compliance": "outreach.cli.compliance:compliance",
    "attempts": "outreach.cli.records:attempts",
    "inconvenient": "outreach.cli.records:inconvenient",
    "unknown": "outreach.cli.unknowns:unknown",
    "providers": "outreach.cli.providers:providers",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported by name when first asked for."""

    def __init__(self, *args: Any, lazy: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.lazy, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        module_name, attribute = self.lazy[cmd_name].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy[cmd_name]} is not a click command")
        return command


@click.group(cls=LazyGroup, lazy=COMMANDS)
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


if __name__ == "__main__":  # `python -m outreach.cli.main`, as the process tests run it
    main()
