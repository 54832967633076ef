"""Users need a proper name, role and password; a disabled user loses every session and token
at once."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from outreach.actions.audit import ActionError
from outreach.auth.passwords import token_digest
from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.users import ApiToken
from tests.console_helpers import PASSWORD, add_user, csrf_of, make_app, token_for
from tests.console_helpers import sign_in as browser_sign_in


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
