"""The FastAPI app of `outreach serve`: health, the sandbox stand-ins, and the scheduler's
lifecycle. Webhooks, the JSON API and the agent console are added by later work."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from outreach.channels.factory import build_channels
from outreach.runtime import Runtime, running_worker, smtp_catcher, twilio_store
from outreach.sandbox.admin import SANDBOX_TWILIO_PREFIX, install_sandbox
from outreach.sandbox.faults import FaultInjector
from outreach.web.access_log import install_access_log
from outreach.web.api.router import router as api_router
from outreach.web.body_limit import BodyLimitMiddleware, BodyLimits
from outreach.web.console import install_console
from outreach.web.console.paths import PREFIX as CONSOLE
from outreach.web.headers import SecurityHeadersMiddleware, route_prefixes
from outreach.web.health import health_router
from outreach.web.public import public_router
from outreach.web.webhooks import twilio_webhooks_router

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"  # the public pages' stylesheet


def create_app(runtime: Runtime, *, self_url: str, run_worker: bool = True) -> FastAPI:
    """`self_url` is where this server listens, for the sandbox SMS endpoint it also serves.
    Without `run_worker` it is the web app only: no planner, dispatcher or bounce reader."""
    config = runtime.config
    sandbox_sms = config.file.sms.mode == "sandbox"
    smtp_faults = FaultInjector()  # the catcher's, for the faults admin (sandbox email only)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if not run_worker:  # web only: nothing sends from here, so no catcher, no channels
                yield
                return
            smtp_port = None
            if config.file.email.mode == "sandbox":
                catcher = await stack.enter_async_context(smtp_catcher(config, faults=smtp_faults))
                smtp_port = catcher.port
                log.info("sandbox SMTP catcher on 127.0.0.1:%d", smtp_port)
            channels = build_channels(
                config,
                clock=runtime.clock,
                sms_base_url=self_url + SANDBOX_TWILIO_PREFIX if sandbox_sms else None,
                smtp_port=smtp_port,
            )
            for channel in channels.values():
                stack.push_async_callback(channel.aclose)
            scheduler = await stack.enter_async_context(
                running_worker(
                    runtime,
                    channels,
                    sms_base_url=self_url + SANDBOX_TWILIO_PREFIX if sandbox_sms else None,
                )
            )
            app.state.scheduler = scheduler  # /readyz asks it when it last ticked
            yield

    app = FastAPI(title="outreach", lifespan=lifespan)
    app.state.scheduler = None  # web only (--no-worker)
    if config.sandbox:  # the stand-ins of the channels in sandbox mode, and their faults admin
        install_sandbox(
            app,
            twilio_store(config) if sandbox_sms else None,
            smtp_faults if config.file.email.mode == "sandbox" else None,
        )

    app.include_router(twilio_webhooks_router(runtime))
    public = public_router(runtime)
    app.include_router(public)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    app.include_router(health_router(runtime))  # /healthz, /readyz, /metrics
    app.state.runtime = runtime  # for the console's and the API's dependencies
    app.include_router(api_router)
    install_console(app)
    # The last added runs first: headers on every answer, the 413 included.
    app.add_middleware(BodyLimitMiddleware, limits=BodyLimits.from_settings(config.file.web))
    pages = (CONSOLE, *route_prefixes(public.routes))
    app.add_middleware(SecurityHeadersMiddleware, pages=pages, api=("/api",))
    install_access_log(public)  # the link tokens in its paths: masked in the access log
    return app
