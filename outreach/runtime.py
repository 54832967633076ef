"""Wire the parts together from a Config: database, renderer, links, channels, dispatcher,
and the local sandbox (SMTP catcher + Twilio-compatible endpoint) when configured."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from outreach.channels.base import Channel
from outreach.channels.twilio_lookup import build_lookup
from outreach.clock import Clock
from outreach.config.loader import Config
from outreach.db.engine import make_engine, session_factory, upgrade
from outreach.inbound.bounces import bounce_source
from outreach.inbound.settle import settle_unknowns
from outreach.links import LinkBuilder
from outreach.pipeline.breaker import BreakerRules
from outreach.pipeline.dispatcher import Dispatcher, DispatcherSettings, default_worker_id
from outreach.pipeline.health import Provider
from outreach.pipeline.scheduler import OutreachScheduler
from outreach.render.environment import renderer_for
from outreach.sandbox.server import running_server
from outreach.sandbox.smtp_catcher import SmtpCatcher
from outreach.sandbox.twilio_api import TwilioSandboxStore, twilio_sandbox_router

log = logging.getLogger(__name__)

SANDBOX_TWILIO_PREFIX = "/sandbox/twilio"


class Runtime:
    def __init__(self, config: Config, clock: Clock, *, engine: Engine | None = None) -> None:
        self.config = config
        self.clock = clock
        self.engine = engine or make_engine(config.database_url)
        self.factory: sessionmaker[Session] = session_factory(self.engine)
        self.renderer = renderer_for(config.dir)
        self.links = LinkBuilder(config.public_url, config.secret_key)

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
    """Where the local stand-ins listen and keep what they received."""

    sms_base_url: str
    smtp_port: int
    twilio: TwilioSandboxStore
    smtp: SmtpCatcher
    dir: Path


def twilio_store(config: Config) -> TwilioSandboxStore:
    sid, token = config.twilio_credentials
    return TwilioSandboxStore(Path(config.file.sandbox.dir), sid, token)


@asynccontextmanager
async def smtp_catcher(config: Config, port: int | None = None) -> AsyncIterator[SmtpCatcher]:
    catcher = SmtpCatcher(
        Path(config.file.sandbox.dir) / "mail",
        port=config.file.sandbox.smtp_port if port is None else port,
    )
    catcher.start()
    try:
        yield catcher
    finally:
        catcher.stop()


@asynccontextmanager
async def standalone_sandbox(config: Config, *, ephemeral: bool = True) -> AsyncIterator[Sandbox]:
    """Run the sandbox on its own loopback ports (demo, `run --once`, tests)."""
    store = twilio_store(config)
    app = FastAPI(title="outreach sandbox")
    app.include_router(twilio_sandbox_router(store), prefix=SANDBOX_TWILIO_PREFIX)
    async with (
        smtp_catcher(config, port=0 if ephemeral else None) as catcher,
        running_server(app) as base_url,
    ):
        yield Sandbox(
            sms_base_url=base_url + SANDBOX_TWILIO_PREFIX,
            smtp_port=catcher.port,
            twilio=store,
            smtp=catcher,
            dir=Path(config.file.sandbox.dir),
        )
