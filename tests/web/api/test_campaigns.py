"""Ops pause and resume campaigns through the API and see their status."""

from __future__ import annotations

from fastapi.testclient import TestClient

from outreach.runtime import Runtime


def test_ops_pause_and_resume_campaigns(api: tuple[Runtime, TestClient]) -> None:
    _, client = api
    assert client.post("/api/campaigns/standard/pause").json()["changed"] is True
    names = {c["name"]: c["status"] for c in client.get("/api/campaigns").json()}
    assert names == {"hardship": "active", "standard": "paused"}
    assert client.post("/api/campaigns/standard/resume").json()["changed"] is True
