"""Admins add users and mint API tokens, each shown once."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from outreach.runtime import Runtime


def test_admins_add_users_and_mint_tokens_shown_once(
    console: tuple[Runtime, TestClient, str],
) -> None:
    _, client, csrf = console
    added = client.post(
        "/console/users",
        data={"csrf_token": csrf, "name": "bob", "role": "agent", "password": "a long password"},
    )
    assert added.status_code == 200 and "<td>bob</td><td>agent</td>" in added.text
    short = client.post(
        "/console/users", data={"csrf_token": csrf, "name": "eve", "role": "agent", "password": "x"}
    )
    assert short.status_code == 422 and "password: String should have at least 10" in short.text
    bob_id = re.search(r'action="/console/users/(\d+)/tokens"', added.text.split("bob")[1])
    assert bob_id
    minted = client.post(f"/console/users/{bob_id.group(1)}/tokens", data={"csrf_token": csrf})
    token = re.search(r"<code>([^<]+)</code>", minted.text)
    assert token
    api = TestClient(client.app, headers={"Authorization": f"Bearer {token.group(1)}"})
    assert api.get("/api/me").json() == {"name": "bob", "role": "agent"}
    assert "<code>" not in client.get("/console/users").text  # shown once
