"""The sign-in limit counts failures per user name and client address."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from outreach.auth.sessions import SignInRefused, sign_in
from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from tests.console_helpers import PASSWORD, add_user, make_app


def test_the_limit_is_per_name_and_address(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    runtime, _ = make_app(config, engine, clock)
    add_user(runtime, "alice", "agent")
    settings = config.file.console
    with runtime.factory() as session:
        for _ in range(settings.sign_in_max_failures):
            with pytest.raises(SignInRefused):
                sign_in(session, clock.now(), settings, name="alice", password="x", ip="10.0.0.1")
        session.commit()
        with pytest.raises(SignInRefused) as refused:
            sign_in(session, clock.now(), settings, name="alice", password=PASSWORD, ip="10.0.0.1")
        assert refused.value.rate_limited
        user = sign_in(
            session, clock.now(), settings, name="alice", password=PASSWORD, ip="10.9.9.9"
        )
        assert user.name == "alice"
