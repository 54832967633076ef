"""The JSON API's fixture: the served app with campaigns synced, and an ops user's bearer token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.pipeline.planner import sync_campaigns
from outreach.runtime import Runtime
from tests.console_helpers import add_user, make_app, token_for


@pytest.fixture
def api(
    config: Config, engine: Engine, clock: SimulatedClock
) -> Iterator[tuple[Runtime, TestClient]]:
    runtime, app = make_app(config, engine, clock)
    with runtime.factory.begin() as session:
        sync_campaigns(session, config.campaigns, clock.now())
    user = add_user(runtime, "ops1", "ops")
    yield runtime, TestClient(app, headers={"Authorization": f"Bearer {token_for(runtime, user)}"})
