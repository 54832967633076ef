"""What every `outreach` command shares: the configuration folder chosen on the root group,
loading the Config and the Runtime from it, the consoles, and the exit-2 errors for bad input.

Exit codes: 0 success, 1 operational failure, 2 bad input or usage. Only light imports here, so
`outreach --help` stays fast; the Runtime is imported when a command asks for it.

No command but `outreach migrate` (and `init` on a database without a schema, and the demo on
its own database) changes the schema: the others check its revision and stop with one line
naming `outreach migrate` when it is missing or behind, so upgrading stays a deliberate step.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from outreach.clock import SystemClock
from outreach.config.errors import ConfigError, config_directory

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress
    from sqlalchemy import Engine

    from outreach.config.loader import Config
    from outreach.db.engine import SchemaStatus
    from outreach.runtime import Runtime

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


@cache
def console() -> Console:
    """Standard output's rich console, made on first use (`outreach compliance explain`
    prints plain JSON and never pays for importing rich)."""
    from rich.console import Console

    return Console()


@cache
def err() -> Console:
    """Standard error's rich console, made on first use."""
    from rich.console import Console

    return Console(stderr=True)


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


class Failure(click.ClickException):
    """Exit 1 with exactly one line on stderr: `error: what went wrong` (for scripts)."""

    exit_code = EXIT_FAILURE

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.message}", err=True)


def config_dir(ctx: click.Context) -> Path:
    """The root group's --config-dir (or OUTREACH_CONFIG_DIR), default ./config."""
    return config_directory((ctx.find_root().obj or {}).get("config_dir"))


def load_config(ctx: click.Context) -> Config:
    """The whole configuration, validated; any error in it is bad input."""
    from outreach.config.loader import Config

    try:
        config = Config(config_dir(ctx))
        config.validate_all()
    except ConfigError as exc:
        raise BadInput(str(exc)) from exc
    return config


def load_runtime(ctx: click.Context, *, schema: bool = True, sends: bool = False) -> Runtime:
    """The Runtime on the validated configuration and the system clock. With `schema` (every
    command that reads or writes the database) the schema must be at the newest revision;
    with `sends` (worker, serve, run) the secrets sending needs must be set and fit for the
    providers (`Config.check_senders`), and shipped sandbox credentials are warned about."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from outreach.collector import tune_for_pipeline
    from outreach.db.engine import display_url
    from outreach.runtime import Runtime

    config = load_config(ctx)
    try:
        if sends:
            config.check_senders()
        runtime = Runtime(config, SystemClock())
    except ConfigError as exc:  # e.g. no OUTREACH_SECRET_KEY with a real provider configured
        raise BadInput(str(exc)) from exc
    except ArgumentError as exc:  # its text may quote the URL, password and all: not shown
        if isinstance(exc, NoSuchModuleError):
            shown = display_url(config.database_url)
            raise BadInput(f"database URL {shown}: unknown dialect or driver") from exc
        raise BadInput(
            "the database URL (OUTREACH_DATABASE_URL or database.url) does not parse"
        ) from exc
    except ImportError as exc:  # a dialect whose driver is not installed (mysql:// ...)
        shown = display_url(config.database_url)
        raise BadInput(f"database URL {shown}: its driver is not installed ({exc})") from exc
    if schema:
        require_schema(runtime.engine, config.database_url)
    if sends:
        tune_for_pipeline()
        warn_shipped_credentials(config)
    return runtime


def warn_shipped_credentials(config: Config) -> None:
    """Sandbox mode runs on credentials shipped in outreach's source: say so at start-up, as
    a log line (in the --log-format chosen), once per process that sends."""
    shipped = config.shipped_credentials()
    if shipped:
        logging.getLogger("outreach.cli").warning(
            "running with the %s shipped for the sandbox, which %s public: anyone can sign"
            " links and Twilio webhooks this server accepts; set your own before another"
            " machine can reach it",
            " and ".join(shipped),
            "is" if len(shipped) == 1 else "are",
        )


def database_status(engine: Engine, url: str) -> SchemaStatus:
    """The schema's revision; an unreachable database is a one-line failure, not a traceback."""
    from sqlalchemy.exc import DBAPIError

    from outreach.db.engine import display_url, schema_status

    try:
        return schema_status(engine)
    except DBAPIError as exc:
        reason = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        raise Failure(f"cannot open the database at {display_url(url)}: {reason}") from exc


def require_schema(engine: Engine, url: str) -> None:
    """Stop (exit 1) unless the schema is at the revision this outreach needs."""
    from outreach.db.engine import display_url

    status = database_status(engine, url)
    if status.ready:
        return
    where = f"the database at {display_url(url)}"
    if status.current is None:
        raise Failure(f"{where} has no outreach schema: run `outreach migrate`")
    if not status.known:
        raise Failure(
            f"{where} is at revision {status.current}, which this outreach does not know (it"
            f" needs {status.head}): a newer outreach migrated it; run that version"
        )
    raise Failure(
        f"{where} is at revision {status.current}, this outreach needs {status.head}:"
        " run `outreach migrate`"
    )


def progress_bar(quiet: bool) -> Progress:
    """A progress bar on stderr, shown only on a terminal and unless `quiet`."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err(),
        disable=quiet or not err().is_terminal,
    )
