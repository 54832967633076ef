"""`outreach serve`'s app: its lifespan runs the APScheduler jobs, which plan and dispatch on their
own through the sandbox the same server hosts; /metrics reports the log's states."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import Engine, select

from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.models import Message
from outreach.runtime import Runtime
from outreach.sandbox.server import running_server
from outreach.web.app import create_app
from tests.conftest import free_port
from tests.factories import add_debtor


async def test_scheduler_in_the_served_app_plans_and_sends_by_itself(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    config.file = config.file.model_copy(
        update={"sandbox": config.file.sandbox.model_copy(update={"smtp_port": 0})}
    )
    runtime = Runtime(config, clock, engine=engine)
    add_debtor(runtime.factory, clock.now(), phones=[("+12127363100", "mobile")])
    port = free_port()
    app = create_app(runtime, self_url=f"http://127.0.0.1:{port}")
    async with running_server(app, port=port) as base_url:
        for _ in range(100):  # the jobs run at start-up; wait for the day-0 letter
            with runtime.factory() as session:
                states = list(session.scalars(select(Message.state)))
            if states == ["sent"]:
                break
            await asyncio.sleep(0.1)
        assert states == ["sent"]
        async with httpx.AsyncClient() as client:
            metrics = (await client.get(f"{base_url}/metrics")).text
        assert 'outreach_messages_by_state{state="sent"} 1.0' in metrics.splitlines()
