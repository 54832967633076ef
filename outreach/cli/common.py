"""What every `outreach` command shares: the configuration folder chosen on the root group,
loading the Config and the Runtime from it, the consoles, and the exit-2 errors for bad input.

Exit codes: 0 success, 1 operational failure, 2 bad input or usage. Only light imports here, so
`outreach --help` stays fast; the Runtime is imported when a command asks for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from outreach.clock import SystemClock
from outreach.config.files import ConfigError
from outreach.config.loader import Config, config_directory

if TYPE_CHECKING:
    from outreach.runtime import Runtime

EXIT_BAD_INPUT = 2

console = Console()
err = Console(stderr=True)


class BadInput(click.ClickException):
    """Exit 2 with click's `Error: what is wrong` on stderr."""

    exit_code = EXIT_BAD_INPUT


class BadField(BadInput):
    """Exit 2 with exactly one line on stderr: `error: FIELD: what is wrong` (for scripts)."""

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.message}", err=True)

    @classmethod
    def from_config(cls, exc: ConfigError) -> BadField:
        """A configuration error, which may span lines, folded onto one."""
        return cls(" / ".join(str(exc).splitlines()))


def config_dir(ctx: click.Context) -> Path:
    """The root group's --config-dir (or OUTREACH_CONFIG_DIR), default ./config."""
    return config_directory((ctx.find_root().obj or {}).get("config_dir"))


def load_config(ctx: click.Context) -> Config:
    """The whole configuration, validated; any error in it is bad input."""
    try:
        config = Config(config_dir(ctx))
        config.validate_all()
    except ConfigError as exc:
        raise BadInput(str(exc)) from exc
    return config


def load_runtime(ctx: click.Context, *, migrate: bool) -> Runtime:
    """The Runtime on the validated configuration and the system clock; `migrate` first brings
    the database schema up to date."""
    from outreach.runtime import Runtime

    runtime = Runtime(load_config(ctx), SystemClock())
    if migrate:
        runtime.migrate()
    return runtime


def progress_bar(quiet: bool) -> Progress:
    """A progress bar on stderr, shown only on a terminal and unless `quiet`."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=quiet or not err.is_terminal,
    )
