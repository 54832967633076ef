"""Wire the parts together from a Config: database, renderer, links, channels, dispatcher,
and the local sandbox (SMTP catcher + Twilio-compatible endpoint) when configured."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from outreach.channels.base import Channel
from outreach.clock import Clock
from outreach.config.files import ConfigError
from outreach.config.loader import Config
from outreach.config.settings import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN
from outreach.db.engine import make_engine, session_factory, upgrade
from outreach.links import LinkBuilder
from outreach.pipeline.dispatcher import Dispatcher, DispatcherSettings
from outreach.render.environment import renderer_for
from outreach.sandbox.admin import SANDBOX_TWILIO_PREFIX, install_sandbox
from outreach.sandbox.faults import FaultInjector
from outreach.sandbox.server import running_server
from outreach.sandbox.smtp_catcher import SmtpCatcher
from outreach.sandbox.twilio_api import TwilioSandboxStore


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

    def dispatcher(
        self, channels: Mapping[str, Channel], worker_id: str | None = None
    ) -> Dispatcher:
        s = self.config.file.scheduler
        return Dispatcher(
            self.factory,
            campaigns=self.config.campaigns,
            policy=self.config.policy,
            channels=channels,
            renderer=self.renderer,
            links=self.links,
            agency=self.config.file.agency,
            clock=self.clock,
            worker_id=worker_id or f"{socket.gethostname()}-{os.getpid()}",
            settings=DispatcherSettings(
                batch_size=s.batch_size,
                lease=timedelta(seconds=s.lease_seconds),
                max_send_attempts=s.max_send_attempts,
                concurrency=s.concurrency,
            ),
            status_callbacks=self.config.file.sms.status_callback,
        )


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
    return TwilioSandboxStore(Path(config.file.sandbox.dir), *sandbox_credentials(config))


@asynccontextmanager
async def smtp_catcher(
    config: Config,
    port: int | None = None,
    *,
    host: str = "127.0.0.1",
    faults: FaultInjector | None = None,
) -> AsyncIterator[SmtpCatcher]:
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
            sandbox.twilio = twilio_store(config)
            app = FastAPI(title="outreach sandbox")
            install_sandbox(app, sandbox.twilio, sandbox.smtp.faults if sandbox.smtp else None)
            sandbox.http_url = await stack.enter_async_context(
                running_server(app, host=host, port=port)
            )
            sandbox.sms_base_url = sandbox.http_url + SANDBOX_TWILIO_PREFIX
        yield sandbox
