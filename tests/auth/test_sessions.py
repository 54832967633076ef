"""The sign-in limits count failures per user name and client address, and per address."""

from __future__ import annotations

from datetime import timedelta

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


def test_one_address_is_limited_over_all_user_names(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    """Before: only per name and address, so one address could try a password on any number
    of names."""
    runtime, _ = make_app(config, engine, clock)
    add_user(runtime, "alice", "agent")
    settings = config.file.console.model_copy(update={"sign_in_max_failures_per_address": 3})
    with runtime.factory() as session:
        for name in ("bob", "carol", "dave"):  # each name well under its own limit
            with pytest.raises(SignInRefused) as wrong:
                sign_in(session, clock.now(), settings, name=name, password="x", ip="10.0.0.1")
            assert not wrong.value.rate_limited
        session.commit()
        with pytest.raises(SignInRefused) as refused:
            sign_in(session, clock.now(), settings, name="alice", password=PASSWORD, ip="10.0.0.1")
        assert refused.value.rate_limited and "from this address" in str(refused.value)
        user = sign_in(
            session, clock.now(), settings, name="alice", password=PASSWORD, ip="10.0.0.2"
        )
        assert user.name == "alice"
        clock.advance(timedelta(minutes=settings.sign_in_window_minutes, seconds=1))
        user = sign_in(
            session, clock.now(), settings, name="alice", password=PASSWORD, ip="10.0.0.1"
        )
        assert user.name == "alice"
