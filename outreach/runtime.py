"""Wire the parts together from a Config: database, renderer, links, channels, dispatcher,
and the local sandbox (SMTP catcher + Twilio-compatible endpoint) when configured."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from outreach.clock import Clock
from outreach.config.files import ConfigError
from outreach.config.loader import Config
from outreach.config.settings import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN
from outreach.db.engine import make_engine, session_factory, upgrade
from outreach.links import LinkBuilder
from outreach.pipeline.health import Provider
from outreach.render.environment import renderer_for

# What only a worker or the stand-ins need is imported where they start (issue 11): a
# command that reads the database (`outreach log`, `users`, `providers`) never loads the web
# framework, twilio, aiohttp, APScheduler or the SMTP catcher (aiosmtpd); a worker whose
# channels go to real providers never loads the stand-ins.
if TYPE_CHECKING:
    from outreach.channels.base import Channel
    from outreach.pipeline.dispatcher import Dispatcher
    from outreach.pipeline.scheduler import OutreachScheduler
    from outreach.sandbox.faults import FaultInjector
    from outreach.sandbox.smtp_catcher import SmtpCatcher
    from outreach.sandbox.twilio_api import TwilioSandboxStore

log = logging.getLogger(__name__)


class Runtime:
    def __init__(self, config: Config, clock: Clock, *, engine: Engine | None = None) -> None:
        self.config = config
        self.clock = clock
        self.engine = engine or make_engine(config.database_url)
        self.factory: sessionmaker[Session] = session_factory(self.engine)
        self.renderer = renderer_for(config.dir)

    @cached_property
    def links(self) -> LinkBuilder:
        """Signed links (unsubscribe, pay, dispute): only what sends or serves pages needs
        the secret key, so `outreach log` works without it."""
        return LinkBuilder(self.config.public_url, self.config.secret_key)

    def migrate(self) -> None:
        upgrade(self.engine)

    def providers(self) -> dict[str, Provider]:
        """Who each channel sends through: the keys of the shared breakers and rate limits."""
        f = self.config.file
        return {
            "sms": Provider(f.sms.sender, "sms", f.sms.max_per_second),
            "email": Provider(f.email.sender, "email", f.email.max_per_second),
            "letter": Provider(f"letter:{f.letter.output_dir}", "letter"),
        }

    def dispatcher(
        self,
        channels: Mapping[str, Channel],
        worker_id: str | None = None,
        concurrency: int | None = None,
    ) -> Dispatcher:
        from outreach.pipeline.breaker import BreakerRules
        from outreach.pipeline.dispatcher import Dispatcher, DispatcherSettings, default_worker_id

        s = self.config.file.scheduler
        b = self.config.file.breaker
        return Dispatcher(
            self.factory,
            campaigns=self.config.campaigns,
            policy=self.config.policy,
            channels=channels,
            renderer=self.renderer,
            links=self.links,
            agency=self.config.file.agency,
            clock=self.clock,
            worker_id=worker_id or default_worker_id(),
            settings=DispatcherSettings(
                batch_size=s.batch_size,
                lease=timedelta(seconds=s.lease_seconds),
                heartbeat=timedelta(seconds=s.heartbeat),
                max_send_attempts=s.max_send_attempts,
                retry_base=timedelta(seconds=s.retry_base_seconds),
                retry_max=timedelta(seconds=s.retry_max_seconds),
                ready_seconds=s.ready_seconds,
                concurrency=(
                    dict(s.concurrency)
                    if concurrency is None
                    else {name: concurrency for name in channels}
                ),
                breaker=BreakerRules(
                    consecutive_failures=b.consecutive_failures,
                    failure_rate=b.failure_rate,
                    window=b.window,
                    min_calls=b.min_calls,
                    open_seconds=b.open_seconds,
                    max_open_seconds=b.max_open_seconds,
                ),
            ),
            status_callbacks=self.config.file.sms.status_callback,
            providers=self.providers(),
        )


@asynccontextmanager
async def running_worker(
    runtime: Runtime,
    channels: Mapping[str, Channel],
    *,
    worker_id: str | None = None,
    concurrency: int | None = None,
    sms_base_url: str | None = None,
) -> AsyncIterator[OutreachScheduler]:
    """The worker's jobs (planner under its advisory lock, dispatcher, bounce reader, and the
    settling of unknown SMS through Twilio's API) for the block; on the way out the
    dispatcher drains within `[scheduler] drain_seconds`. The same for `outreach worker` and
    the all-in-one `outreach serve`. `sms_base_url`: the sandbox stand-in, in sandbox mode."""
    from outreach.inbound.bounces import bounce_source
    from outreach.inbound.settle import settle_unknowns
    from outreach.pipeline.scheduler import OutreachScheduler

    config = runtime.config
    s = config.file.scheduler
    scheduler = OutreachScheduler(
        runtime.factory,
        config.campaigns,
        runtime.dispatcher(channels, worker_id, concurrency),
        runtime.clock,
        planner_seconds=s.planner_seconds,
        dispatcher_seconds=s.dispatcher_seconds,
    )
    if "email" in channels and (box := bounce_source(config)) is not None:

        async def read_bounces() -> None:
            await asyncio.to_thread(box.process, runtime.factory, runtime.clock.now())

        scheduler.every(config.file.inbound.bounce_poll_seconds, read_bounces, "bounces")
    lookup = None
    if "sms" in channels and (config.file.sms.mode != "sandbox" or sms_base_url):
        from outreach.channels.twilio_lookup import build_lookup

        lookup = build_lookup(config, sms_base_url=sms_base_url)
        found = lookup

        async def settle() -> None:
            report = await settle_unknowns(runtime.factory, found, runtime.clock.now())
            if report.settled:
                log.info("settled %d unknown SMS through the provider's API", report.settled)

        scheduler.every(s.settle_seconds, settle, "settle")
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.drained = await scheduler.stop(s.drain_seconds)
        if lookup is not None:
            await lookup.aclose()


@dataclass
class Sandbox:
    """Where the local stand-ins listen and keep what they received. A stand-in whose channel
    is configured for a real provider is not started: its fields are None."""

    dir: Path
    twilio: TwilioSandboxStore | None = None
    smtp: SmtpCatcher | None = None
    sms_base_url: str | None = None  # the Twilio stand-in's API root (for the twilio client)
    smtp_port: int | None = None
    http_url: str | None = None  # the stand-in's HTTP server: /sandbox/twilio, /sandbox/faults


def sandbox_credentials(config: Config) -> tuple[str, str]:
    """What the Twilio stand-in accepts: the configured credentials, else the sandbox's."""
    try:
        return config.twilio_credentials
    except ConfigError:  # sms mode "twilio" without credentials in the environment
        return SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN


def twilio_store(config: Config) -> TwilioSandboxStore:
    from outreach.sandbox.twilio_api import TwilioSandboxStore

    return TwilioSandboxStore(Path(config.file.sandbox.dir), *sandbox_credentials(config))


@asynccontextmanager
async def smtp_catcher(
    config: Config,
    port: int | None = None,
    *,
    host: str = "127.0.0.1",
    faults: FaultInjector | None = None,
) -> AsyncIterator[SmtpCatcher]:
    from outreach.sandbox.smtp_catcher import SmtpCatcher

    catcher = SmtpCatcher(
        Path(config.file.sandbox.dir) / "mail",
        host=host,
        port=config.file.sandbox.smtp_port if port is None else port,
        faults=faults,
    )
    catcher.start()
    try:
        yield catcher
    finally:
        catcher.stop()


@asynccontextmanager
async def standalone_sandbox(
    config: Config,
    *,
    sms: bool | None = None,
    email: bool | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    smtp_port: int = 0,
) -> AsyncIterator[Sandbox]:
    """Run the stand-ins on their own loopback ports (demo, `run --once`, `outreach sandbox`,
    tests): by default only those the configuration's sandbox modes need. Port 0: a free one.
    The HTTP server (Twilio stand-in and faults admin) runs with the Twilio stand-in."""
    sms = config.file.sms.mode == "sandbox" if sms is None else sms
    email = config.file.email.mode == "sandbox" if email is None else email
    sandbox = Sandbox(dir=Path(config.file.sandbox.dir))
    async with AsyncExitStack() as stack:
        if email:
            sandbox.smtp = await stack.enter_async_context(
                smtp_catcher(config, port=smtp_port, host=host)
            )
            sandbox.smtp_port = sandbox.smtp.port
        if sms:
            from fastapi import FastAPI

            from outreach.sandbox.admin import SANDBOX_TWILIO_PREFIX, install_sandbox
            from outreach.sandbox.server import running_server

            sandbox.twilio = twilio_store(config)
            app = FastAPI(title="outreach sandbox")
            install_sandbox(app, sandbox.twilio, sandbox.smtp.faults if sandbox.smtp else None)
            sandbox.http_url = await stack.enter_async_context(
                running_server(app, host=host, port=port)
            )
            sandbox.sms_base_url = sandbox.http_url + SANDBOX_TWILIO_PREFIX
        yield sandbox
