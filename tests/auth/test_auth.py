"""Sign-in, sessions, CSRF and API tokens: what keeps the console and the API private."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from outreach.actions.audit import ActionError
from outreach.auth.passwords import hash_password, token_digest, verify_password
from outreach.auth.sessions import SignInRefused, sign_in
from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.casework import AuditEvent
from outreach.db.users import ApiToken, User, UserSession
from tests.console_helpers import PASSWORD, add_user, csrf_of, make_app, token_for
from tests.console_helpers import sign_in as browser_sign_in


def test_passwords_are_argon2_hashes_and_verify() -> None:
    stored = hash_password("s3cret-enough")
    assert stored.startswith("$argon2id$") and "s3cret" not in stored
    assert verify_password(stored, "s3cret-enough")
    assert not verify_password(stored, "s3cret-enougH")
    assert not verify_password(None, "anything")  # unknown user: same work, never true
    assert not verify_password("not a hash", "anything")


def test_users_need_a_proper_name_role_and_password(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    runtime, _ = make_app(config, engine, clock)
    for name, role, password, message in [
        ("Bad Name", "agent", PASSWORD, "name must be"),
        ("bob", "boss", PASSWORD, "role must be one of agent, ops, admin"),
        ("bob", "agent", "short", "at least 10 characters"),
    ]:
        with pytest.raises(ActionError, match=message):
            add_user(runtime, name, role, password)
    add_user(runtime, "bob", "agent")
    with pytest.raises(ActionError, match="already exists"):
        add_user(runtime, "bob", "ops")


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


def test_disabled_users_lose_sessions_and_tokens_at_once(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    runtime, app = make_app(config, engine, clock)
    add_user(runtime, "root", "admin")
    bob = add_user(runtime, "bob", "agent")
    token = token_for(runtime, bob)
    api = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    assert api.get("/api/me").json() == {"name": "bob", "role": "agent"}
    with runtime.factory() as session:
        stored = session.scalars(select(ApiToken)).one()
        assert stored.token_hash == token_digest(token) and stored.last_used_at == clock.now()
    bob_browser = TestClient(app)
    browser_sign_in(bob_browser, "bob")

    admin = TestClient(app)
    csrf = browser_sign_in(admin, "root")
    assert (
        admin.post(f"/console/users/{bob.id}/disable", data={"csrf_token": csrf}).status_code == 200
    )
    assert api.get("/api/me").status_code == 401
    assert bob_browser.get("/console/log", follow_redirects=False).status_code == 303
    form = bob_browser.get("/console/sign-in")
    again = bob_browser.post(
        "/console/sign-in",
        data={"name": "bob", "password": PASSWORD, "csrf_token": csrf_of(form.text)},
    )
    assert again.status_code == 401 and "Wrong user name or password." in again.text


def test_a_csrf_token_only_works_with_its_own_session(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    runtime, app = make_app(config, engine, clock)
    add_user(runtime, "alice", "agent")
    add_user(runtime, "mallory", "agent")
    alice, mallory = TestClient(app), TestClient(app)
    browser_sign_in(alice, "alice")
    stolen = browser_sign_in(mallory, "mallory")
    assert alice.post("/console/sign-out", data={"csrf_token": stolen}).status_code == 403


def test_the_access_log_never_shows_the_log_filters(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    make_app(config, engine, clock)  # installs the filter on uvicorn's access logger
    access = logging.getLogger("uvicorn.access")
    record = access.makeRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/console/log?address=maria%40example.com", "1.1", 200),
        None,
    )
    assert all(f.filter(record) for f in access.filters)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /console/log?… HTTP/1.1" 200'
