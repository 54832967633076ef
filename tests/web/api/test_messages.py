"""GET /api/messages: the log, masked, a page at a time; and one message with its events."""

from __future__ import annotations

from fastapi.testclient import TestClient

from outreach.runtime import Runtime
from tests.console_helpers import add_messages
from tests.factories import add_debtor

BLOCKED = {"state": "blocked", "rules": ["F7"], "reasons": ["Opted out of +12125550143."]}


def test_the_log_lists_masked_rows_a_page_at_a_time(api: tuple[Runtime, TestClient]) -> None:
    runtime, client = api
    debtor, account = add_debtor(runtime.factory, runtime.clock.now())
    ids = add_messages(runtime, debtor, account, [{} for _ in range(55)] + [BLOCKED])
    first = client.get("/api/messages").json()
    assert [r["id"] for r in first["items"]] == sorted(ids, reverse=True)[:50]
    top = first["items"][0]
    assert top["state"] == "blocked" and top["rules"] == ["F7"]
    assert top["to"] == "********0143" and top["reasons"] == ["Opted out of ********0143."]
    second = client.get("/api/messages", params={"before": first["next_before"]}).json()
    assert [r["id"] for r in second["items"]] == sorted(ids, reverse=True)[50:]
    assert second["next_before"] is None
    only = client.get("/api/messages", params={"rule": "F7", "address": "212-555-0143"}).json()
    assert [r["id"] for r in only["items"]] == [ids[-1]]

    bad = client.get("/api/messages", params={"channel": "fax", "rule": "F1;drop"})
    assert bad.status_code == 422
    assert {tuple(e["loc"]) for e in bad.json()["detail"]} == {
        ("query", "channel"),
        ("query", "rule"),
    }
    unknown = client.get("/api/messages", params={"colour": "red"})
    assert unknown.status_code == 422  # a misspelt filter is an error, not "everything"

    detail = client.get(f"/api/messages/{ids[-1]}").json()
    assert detail["to"] == "********0143"
    assert [e["to_state"] for e in detail["events"]] == ["planned", "blocked"]
    assert detail["events"][1]["detail"]["rules"] == ["F7"]
    assert client.get("/api/messages/999999").status_code == 404
