"""`outreach worker`: the planner (one at a time, under its advisory lock), the dispatcher
and the bounce reader, without a web server. Run as many as the providers allow; they share
leases, breakers and rate limits through the database.

SIGTERM or SIGINT drains: no new claims, in-flight sends finish within `[scheduler]
drain_seconds`, the rest goes back to planned, everything is recorded, exit 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import click

from outreach.cli.common import BadInput, console, load_runtime
from outreach.masking import configure_logging

if TYPE_CHECKING:
    from outreach.channels.base import Channel
    from outreach.runtime import Runtime

log = logging.getLogger("outreach.worker")

CHANNELS = ("sms", "email", "letter")


def _channel_list(value: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip() for n in value.split(",") if n.strip()))
    unknown = [n for n in names if n not in CHANNELS]
    if unknown or not names:
        raise BadInput(
            f"--channels: {', '.join(unknown) or 'nothing'} is not a channel "
            f"(choose from {', '.join(CHANNELS)})"
        )
    return names


@click.command()
@click.option(
    "--channels",
    "channel_names",
    default=",".join(CHANNELS),
    show_default=True,
    help="Comma-separated channels this worker sends.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=None,
    help="Sends in flight per channel (default: [scheduler] concurrency).",
)
@click.option(
    "--processes",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes to run (one per core); each drains on SIGTERM.",
)
@click.option("--once", is_flag=True, help="Plan and dispatch what is due now, then exit.")
@click.option("--worker-id", default=None, help="Name in leases and logs (default host-pid).")
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Serve Prometheus /metrics on this port.",
)
@click.pass_context
def worker(
    ctx: click.Context,
    channel_names: str,
    concurrency: int | None,
    processes: int,
    once: bool,
    worker_id: str | None,
    metrics_port: int | None,
) -> None:
    """Send what is due, without the web server; drain on SIGTERM."""
    names = _channel_list(channel_names)
    runtime = load_runtime(ctx, sends=True)
    configure_logging(20)
    if processes > 1:
        if metrics_port and metrics_port + processes - 1 > 65535:
            raise BadInput(
                f"--metrics-port {metrics_port} with --processes {processes}: the children"
                f" would need ports up to {metrics_port + processes - 1} (at most 65535)"
            )
        _processes(processes, once)
        return
    if once:
        console().print_json(data=asyncio.run(_once(runtime, names, worker_id, concurrency)))
        return
    asyncio.run(_serve(runtime, names, worker_id, concurrency, metrics_port))


def _processes(n: int, once: bool) -> None:
    """This command line N times over, as child processes (`--metrics-port P`: P, P+1...)."""
    from outreach.cli import processes

    argv = processes.current_argv()
    if once:
        code, report = processes.run_once(argv, n)
        console().print_json(data=report)
    else:
        log.info("running %d worker processes; SIGTERM drains them all", n)
        code = processes.supervise(argv, n)
    if code:
        raise SystemExit(code)


async def _channels(
    stack: AsyncExitStack, runtime: Runtime, names: tuple[str, ...]
) -> tuple[dict[str, Channel], str | None]:
    """The selected channels; the local stand-ins only for what is in sandbox mode."""
    from outreach.channels.factory import build_channels
    from outreach.runtime import standalone_sandbox

    config = runtime.config
    sms_base_url, smtp_port = None, None
    if config.file.sms.mode == "sandbox" or config.file.email.mode == "sandbox":
        sandbox = await stack.enter_async_context(standalone_sandbox(config))
        sms_base_url, smtp_port = sandbox.sms_base_url, sandbox.smtp_port
    channels = build_channels(
        config, clock=runtime.clock, sms_base_url=sms_base_url, smtp_port=smtp_port
    )
    for channel in channels.values():
        stack.push_async_callback(channel.aclose)
    return {name: channels[name] for name in names}, sms_base_url


async def _once(
    runtime: Runtime, names: tuple[str, ...], worker_id: str | None, concurrency: int | None
) -> dict[str, Any]:
    from outreach.pipeline import planner

    plan = planner.tick(runtime.factory, runtime.config.campaigns, runtime.clock)
    async with AsyncExitStack() as stack:
        channels, _ = await _channels(stack, runtime, names)
        dispatcher = runtime.dispatcher(channels, worker_id, concurrency)
        report = await dispatcher.run_until_idle()
    return {
        "enrolled": plan.enrolled,
        "planned": plan.planned,
        "claimed": report.claimed,
        **dict(report.outcomes),
    }


async def _serve(
    runtime: Runtime,
    names: tuple[str, ...],
    worker_id: str | None,
    concurrency: int | None,
    metrics_port: int | None,
) -> None:
    from outreach.runtime import running_worker

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as stack:
        channels, sms_base_url = await _channels(stack, runtime, names)
        if metrics_port is not None:
            _serve_metrics(runtime, metrics_port)
        scheduler = await stack.enter_async_context(
            running_worker(
                runtime,
                channels,
                worker_id=worker_id,
                concurrency=concurrency,
                sms_base_url=sms_base_url,
            )
        )
        log.info(
            "worker %s sending %s; SIGTERM drains",
            scheduler.dispatcher.worker_id,
            ",".join(names),
        )
        await stop.wait()
        log.info(
            "stopping: no new claims; in-flight sends get %ss",
            runtime.config.file.scheduler.drain_seconds,
        )
    # The dispatcher logs how the drain went ("drained in ...").


def _serve_metrics(runtime: Runtime, port: int) -> None:
    """The same registry as /metrics: process counters plus the database's gauges."""
    from outreach.web.metrics import start_metrics_server

    try:
        start_metrics_server(port, runtime.factory, clock=runtime.clock)
    except OSError as exc:
        raise click.ClickException(f"--metrics-port {port}: {exc.strerror or exc}") from exc
