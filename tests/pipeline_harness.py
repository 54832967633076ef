"""A running pipeline for tests: real database, real sandbox (SMTP catcher, Twilio endpoint),
real channels, the real dispatcher, on a simulated clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, select

from outreach.channels.base import Channel
from outreach.channels.factory import build_channels
from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.models import Message, MessageEvent
from outreach.pipeline import planner
from outreach.pipeline.dispatcher import Dispatcher
from outreach.runtime import Runtime, Sandbox, standalone_sandbox


@dataclass
class Pipeline:
    runtime: Runtime
    sandbox: Sandbox
    channels: Mapping[str, Channel]
    clock: SimulatedClock

    def dispatcher(
        self, worker: str = "w1", channels: Mapping[str, Channel] | None = None, **settings: object
    ) -> Dispatcher:
        d = self.runtime.dispatcher(channels or self.channels, worker_id=worker)
        if settings:
            from dataclasses import replace

            d.settings = replace(d.settings, **settings)  # type: ignore[arg-type]
        return d

    def plan(self) -> planner.PlanReport:
        return planner.tick(self.runtime.factory, self.runtime.config.campaigns, self.clock)

    async def run_days(self, days: float, step: timedelta = timedelta(minutes=30)) -> None:
        """Advance the clock in steps, planning and dispatching at each one."""
        end = self.clock.now() + timedelta(days=days)
        dispatcher = self.dispatcher()
        while self.clock.now() < end:
            self.plan()
            await dispatcher.run_until_idle()
            self.clock.advance(step)

    def messages(self) -> list[Message]:
        with self.runtime.factory() as session:
            return list(session.scalars(select(Message).order_by(Message.id)))

    def events(self, message_id: int) -> list[tuple[str | None, str]]:
        with self.runtime.factory() as session:
            rows = session.execute(
                select(MessageEvent.from_state, MessageEvent.to_state)
                .where(MessageEvent.message_id == message_id)
                .order_by(MessageEvent.id)
            )
            return [(a, b) for a, b in rows]


@asynccontextmanager
async def running_pipeline(
    config: Config, engine: Engine, clock: SimulatedClock
) -> AsyncIterator[Pipeline]:
    runtime = Runtime(config, clock, engine=engine)
    async with standalone_sandbox(config) as sandbox:
        channels = build_channels(
            config, clock=clock, sms_base_url=sandbox.sms_base_url, smtp_port=sandbox.smtp_port
        )
        try:
            yield Pipeline(runtime, sandbox, channels, clock)
        finally:
            for channel in channels.values():
                await channel.aclose()
