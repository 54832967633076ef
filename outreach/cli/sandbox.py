"""`outreach sandbox`: the stand-ins on their own, for workers in other processes pointed at them
(`[sms] mode = "twilio"` with `base_url`, `[email] mode = "smtp"` with the catcher's port), and
`outreach sandbox fault ...`, which drives the faults admin of a running one."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Any

import click

from outreach.cli.common import BadInput, Failure, config_dir
from outreach.config.errors import ConfigError

TARGET = click.Choice(["twilio", "smtp"])


@click.group(invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address of both servers.")
@click.option(
    "--port",
    default=8025,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="HTTP: the Twilio-compatible API and the faults admin (0: a free port).",
)
@click.option(
    "--smtp-port",
    type=click.IntRange(0, 65535),
    help="The SMTP catcher (default: sandbox.smtp_port; 0: a free port).",
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to keep what they accept (default: sandbox.dir).",
)
@click.pass_context
def sandbox(
    ctx: click.Context, host: str, port: int, smtp_port: int | None, directory: Path | None
) -> None:
    """Run the Twilio stand-in, its faults admin and the SMTP catcher until SIGTERM or Ctrl-C.

    Accepted SMS are appended to DIR/twilio_requests.jsonl, mail is kept in the Maildir DIR/mail.
    """
    if ctx.invoked_subcommand is not None:
        return
    from outreach.config.loader import Config

    try:
        config = Config(config_dir(ctx))
    except ConfigError as exc:
        raise BadInput(str(exc)) from exc
    if directory is not None:
        f = config.file
        config.file = f.model_copy(
            update={"sandbox": f.sandbox.model_copy(update={"dir": str(directory)})}
        )
    smtp = config.file.sandbox.smtp_port if smtp_port is None else smtp_port
    try:
        asyncio.run(_serve(config, host, port, smtp))
    except OSError as exc:  # a port in use, an address not on this machine
        where = f"{host} (HTTP port {port}, SMTP port {smtp})"
        raise Failure(f"cannot listen on {where}: {exc.strerror or exc}") from exc


async def _serve(config: Any, host: str, port: int, smtp_port: int) -> None:
    from outreach.runtime import sandbox_credentials, standalone_sandbox
    from outreach.sandbox.admin import FAULTS_PREFIX
    from outreach.sandbox.twilio_api import REQUESTS_FILE

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with standalone_sandbox(
        config, sms=True, email=True, host=host, port=port, smtp_port=smtp_port
    ) as running:
        if running.smtp is None or running.http_url is None:  # pragma: no cover - asked both
            raise RuntimeError("the sandbox did not start both stand-ins")
        account = sandbox_credentials(config)[0]
        # One `name: value` per line: easy to read, and to parse for a test or a script.
        click.echo(f"twilio: {running.sms_base_url} (account {account})")
        click.echo(f"faults: {running.http_url}{FAULTS_PREFIX}")
        click.echo(f"smtp: {running.smtp.host}:{running.smtp.port}")
        click.echo(f"requests: {running.dir / REQUESTS_FILE}")
        click.echo(f"mail: {running.smtp.maildir}")
        click.echo("ready (SIGTERM or Ctrl-C stops)")
        await stop.wait()
    click.echo("stopped")


@sandbox.group()
@click.option(
    "--url",
    default="http://127.0.0.1:8025",
    show_default=True,
    envvar="OUTREACH_SANDBOX_URL",
    help="The sandbox's HTTP server (`outreach sandbox`, or `outreach serve` in sandbox mode).",
)
@click.pass_context
def fault(ctx: click.Context, url: str) -> None:
    """Make a running sandbox refuse or delay what it is sent; prints the new state as JSON."""
    ctx.obj["sandbox_url"] = url


def _call(ctx: click.Context, method: str, *args: Any, **kwargs: Any) -> None:
    from outreach.sandbox.control import SandboxControl, SandboxError

    with SandboxControl(ctx.find_root().obj["sandbox_url"]) as control:
        try:
            state = getattr(control, method)(*args, **kwargs)
        except SandboxError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                raise BadInput(str(exc)) from exc
            raise Failure(str(exc)) from exc
    click.echo(json.dumps(state, indent=2))


def _fault_options(f: Any) -> Any:
    for option in reversed(
        [
            click.option("--status", type=int, help="Twilio: the HTTP status (default 503)."),
            click.option(
                "--code", type=int, help="Twilio: its error code; SMTP: the reply (451, 550)."
            ),
            click.option("--message", default="", help="The error text."),
            click.option("--retry-after", type=float, help="Twilio: a Retry-After (seconds)."),
        ]
    ):
        f = option(f)
    return f


@fault.command("fail-next")
@click.argument("target", type=TARGET)
@click.option("-n", "--n", "n", default=1, show_default=True, type=click.IntRange(1))
@_fault_options
@click.pass_context
def fail_next(ctx: click.Context, /, target: str, n: int, **fault: Any) -> None:
    """Refuse the next N requests to TARGET."""
    _call(ctx, "fail_next", target, n, **fault)


@fault.command()
@click.argument("target", type=TARGET)
@click.option("--seconds", required=True, type=click.FloatRange(min=0, min_open=True))
@_fault_options
@click.pass_context
def storm(ctx: click.Context, /, target: str, seconds: float, **fault: Any) -> None:
    """Refuse every request to TARGET for SECONDS (default: Twilio 500, SMTP 451)."""
    _call(ctx, "storm", target, seconds, **fault)


@fault.command("delay-next")
@click.argument("target", type=TARGET)
@click.option("-n", "--n", "n", default=1, show_default=True, type=click.IntRange(1))
@click.option("--seconds", required=True, type=click.FloatRange(min=0, min_open=True))
@click.pass_context
def delay_next(ctx: click.Context, target: str, n: int, seconds: float) -> None:
    """Accept the next N requests to TARGET but answer each only after SECONDS."""
    _call(ctx, "delay_next", target, n, seconds=seconds)


@fault.command()
@click.argument("target", type=TARGET, required=False)
@click.pass_context
def clear(ctx: click.Context, target: str | None) -> None:
    """Drop pending faults, delays and storms (of TARGET, or of both)."""
    _call(ctx, "clear", target)


@fault.command()
@click.argument("target", type=TARGET, required=False)
@click.pass_context
def state(ctx: click.Context, target: str | None) -> None:
    """Pending faults, the storm, and how many requests were accepted and refused."""
    _call(ctx, "state", target)
