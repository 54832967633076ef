"""The console's fixture: the served app (10 log rows a page) with campaigns synced, and an
admin signed in (client and CSRF token)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.pipeline.planner import sync_campaigns
from outreach.runtime import Runtime
from tests.console_helpers import add_user, make_app, sign_in


@pytest.fixture
def console(
    config: Config, engine: Engine, clock: SimulatedClock
) -> Iterator[tuple[Runtime, TestClient, str]]:
    config.file = config.file.model_copy(
        update={"console": config.file.console.model_copy(update={"page_size": 10})}
    )
    runtime, app = make_app(config, engine, clock)
    with runtime.factory.begin() as session:
        sync_campaigns(session, config.campaigns, clock.now())
    add_user(runtime, "alice", "admin")
    client = TestClient(app)
    yield runtime, client, sign_in(client, "alice")
