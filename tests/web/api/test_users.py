"""Admins add users, mint their tokens and disable them (never themselves) through the API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from outreach.runtime import Runtime
from tests.console_helpers import add_user, token_for


def test_admins_manage_users_and_tokens(api: tuple[Runtime, TestClient]) -> None:
    runtime, client = api
    assert client.get("/api/users").status_code == 403  # ops is not admin
    admin = add_user(runtime, "root", "admin")
    root = TestClient(client.app, headers={"Authorization": f"Bearer {token_for(runtime, admin)}"})
    made = root.post("/api/users", json={"name": "carol", "role": "agent", "password": "x" * 12})
    assert made.status_code == 201 and made.json()["role"] == "agent"
    token = root.post(f"/api/users/{made.json()['id']}/tokens").json()["token"]
    carol = TestClient(client.app, headers={"Authorization": f"Bearer {token}"})
    assert carol.get("/api/me").json() == {"name": "carol", "role": "agent"}
    assert root.post(f"/api/users/{admin.id}/disable").status_code == 400  # not yourself
    assert root.post(f"/api/users/{made.json()['id']}/disable").json()["changed"] is True
    assert carol.get("/api/me").status_code == 401
