"""`outreach serve` (web app, worker, sandbox stand-ins) and `outreach run --once` (one
plan-and-dispatch pass for cron). uvicorn and the web app are imported only when serving."""

from __future__ import annotations

import asyncio
from typing import Any

import click

from outreach.cli.common import console, err, load_runtime
from outreach.masking import configure_logging


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--no-worker",
    is_flag=True,
    help="Serve the web app only: no planner, dispatcher or bounce reader (run them elsewhere).",
)
@click.option("--no-scheduler", is_flag=True, hidden=True, help="Deprecated: --no-worker.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, no_worker: bool, no_scheduler: bool) -> None:
    """Run the web app, the worker (planner, dispatcher, bounce reader) and, for the channels in
    sandbox mode, the local stand-ins."""
    import uvicorn

    from outreach.web.app import create_app
    from outreach.web.proxy import proxy_options

    if no_scheduler:
        err().print("--no-scheduler is deprecated: use --no-worker")
    runtime = load_runtime(ctx, sends=True)
    app = create_app(
        runtime, self_url=f"http://{host}:{port}", run_worker=not (no_worker or no_scheduler)
    )
    configure_logging(20)
    proxy = proxy_options(runtime.config.file.web)
    uvicorn.run(app, host=host, port=port, log_config=None, **proxy)


@click.command()
@click.option(
    "--once", is_flag=True, required=True, help="Plan and dispatch what is due, then exit."
)
@click.pass_context
def run(ctx: click.Context, once: bool) -> None:
    """Plan and dispatch everything due now (for cron), then exit."""
    from outreach.channels.factory import build_channels
    from outreach.pipeline import planner
    from outreach.runtime import standalone_sandbox

    runtime = load_runtime(ctx, sends=True)
    config = runtime.config

    async def go() -> dict[str, Any]:
        plan = planner.tick(runtime.factory, config.campaigns, runtime.clock)
        # Only the stand-ins of the channels in sandbox mode; the others go to their provider.
        async with standalone_sandbox(config) as sandbox:
            channels = build_channels(
                config,
                clock=runtime.clock,
                sms_base_url=sandbox.sms_base_url,
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

    console().print_json(data=asyncio.run(go()))
