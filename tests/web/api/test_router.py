"""The API's one router: documented by OpenAPI with bearer auth, no console routes in it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from outreach.runtime import Runtime


def test_the_api_is_documented_by_openapi_with_bearer_auth(
    api: tuple[Runtime, TestClient],
) -> None:
    _, client = api
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    assert {"/api/messages", "/api/debtors/{debtor_id}", "/api/debtors/{debtor_id}/notes"} <= set(
        paths
    )
    assert not any(p.startswith("/console") for p in paths)
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    params = {p["name"] for p in paths["/api/messages"]["get"]["parameters"]}
    assert {"debtor", "account", "address", "channel", "state", "rule", "campaign"} <= params
    assert {"since", "until", "before"} <= params
