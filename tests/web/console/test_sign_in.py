"""Signing in to the console and out: a private session cookie (Secure behind https), revoked
at sign-out, expiring, never redirecting off site; failed sign-ins audited, logged masked
and rate limited."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from outreach.auth.passwords import token_digest
from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.casework import AuditEvent
from outreach.db.users import User, UserSession
from tests.console_helpers import PASSWORD, add_user, csrf_of, make_app


def test_sign_in_sets_a_private_session_cookie_and_sign_out_revokes_it(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    runtime, app = make_app(config, engine, clock)
    add_user(runtime, "alice", "agent")
    client = TestClient(app)
    form = client.get("/console/sign-in")
    response = client.post(
        "/console/sign-in",
        data={"name": "alice", "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/console/log"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("outreach_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # public_url is http here
    token = client.cookies["outreach_session"]
    with runtime.factory() as session:
        row = session.scalars(select(UserSession)).one()
        assert row.token_hash == token_digest(token) != token  # only the hash is stored
        assert session.scalars(select(User)).one().last_login_at == clock.now()

    page = client.get("/console/log")
    assert page.status_code == 200 and "alice" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"

    out = client.post("/console/sign-out", data={"csrf_token": csrf_of(page.text)})
    assert out.url.path == "/console/sign-in"
    with runtime.factory() as session:
        assert session.scalars(select(UserSession)).one().revoked_at == clock.now()
    # The old cookie is worthless now, even if a copy of it survives.
    replay = TestClient(app, cookies={"outreach_session": token})
    assert replay.get("/console/log", follow_redirects=False).status_code == 303


def test_the_cookie_is_secure_behind_https(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    config.secrets.public_url = "https://collect.example.com"
    runtime, app = make_app(config, engine, clock)
    add_user(runtime, "alice", "agent")
    client = TestClient(app, base_url="https://testserver")
    form = client.get("/console/sign-in")
    response = client.post(
        "/console/sign-in",
        data={"name": "alice", "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert any(
        c.startswith("outreach_session=") and "Secure" in c
        for c in response.headers.get_list("set-cookie")
    )


def test_sessions_expire_and_never_redirect_off_site(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    runtime, app = make_app(config, engine, clock)
    add_user(runtime, "alice", "agent")
    client = TestClient(app)
    form = client.get("/console/sign-in")
    response = client.post(
        "/console/sign-in",
        data={
            "name": "alice",
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
            "next": "//evil.example/console/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/console/log"
    assert client.get("/console/inbox", follow_redirects=False).status_code == 200
    clock.advance(timedelta(hours=config.file.console.session_hours, seconds=1))
    expired = client.get("/console/inbox", follow_redirects=False)
    assert expired.status_code == 303
    assert expired.headers["location"] == "/console/sign-in?next=/console/inbox"


def test_failed_sign_ins_are_audited_logged_masked_and_rate_limited(
    config: Config, engine: Engine, clock: SimulatedClock, caplog: pytest.LogCaptureFixture
) -> None:
    runtime, app = make_app(config, engine, clock)
    add_user(runtime, "alice.smith", "agent")
    client = TestClient(app)
    limit = config.file.console.sign_in_max_failures

    def attempt(password: str) -> int:
        form = client.get("/console/sign-in")
        data = {"name": "alice.smith", "password": password, "csrf_token": csrf_of(form.text)}
        return client.post("/console/sign-in", data=data, follow_redirects=False).status_code

    with caplog.at_level(logging.WARNING, logger="outreach.auth.sessions"):
        assert [attempt("wrong password!") for _ in range(limit)] == [401] * limit
        assert attempt(PASSWORD) == 429  # locked, even with the right password
    form = client.get("/console/sign-in")
    data = {"name": "alice.smith", "password": PASSWORD, "csrf_token": csrf_of(form.text)}
    locked = client.post("/console/sign-in", data=data, follow_redirects=False)
    assert locked.headers["Retry-After"] == str(config.file.console.sign_in_window_minutes * 60)
    assert "alice.smith" not in caplog.text and "*******mith" in caplog.text
    assert "wrong password" not in caplog.text
    with runtime.factory() as session:
        failures = list(
            session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.sign_in_failed"))
        )
    assert len(failures) == limit
    assert failures[0].detail == {"name": "*******mith", "ip": "testclient"}

    clock.advance(timedelta(minutes=config.file.console.sign_in_window_minutes, seconds=1))
    assert attempt(PASSWORD) == 303


def test_many_user_names_from_one_address_get_429_with_the_reason(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    console = config.file.console.model_copy(update={"sign_in_max_failures_per_address": 3})
    config.file = config.file.model_copy(update={"console": console})
    runtime, app = make_app(config, engine, clock)
    add_user(runtime, "alice", "agent")
    client = TestClient(app)

    def attempt(name: str, password: str) -> tuple[int, str]:
        form = client.get("/console/sign-in")
        data = {"name": name, "password": password, "csrf_token": csrf_of(form.text)}
        response = client.post("/console/sign-in", data=data, follow_redirects=False)
        return response.status_code, response.text

    assert [attempt(name, "guess")[0] for name in ("admin", "root", "ops")] == [401] * 3
    status, page = attempt("alice", PASSWORD)
    assert status == 429 and "Too many failed sign-ins from this address" in page
