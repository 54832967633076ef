"""The JSON API: the console's data and actions for scripts, with bearer tokens per user."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.casework import AuditEvent, Note, Task
from outreach.db.models import InboundMessage
from outreach.pipeline.planner import sync_campaigns
from outreach.runtime import Runtime
from tests.console_helpers import add_messages, add_user, make_app, token_for
from tests.factories import add_debtor

BLOCKED = {"state": "blocked", "rules": ["F7"], "reasons": ["Opted out of +12125550143."]}


@pytest.fixture
def api(
    config: Config, engine: Engine, clock: SimulatedClock
) -> Iterator[tuple[Runtime, TestClient]]:
    runtime, app = make_app(config, engine, clock)
    with runtime.factory.begin() as session:
        sync_campaigns(session, config.campaigns, clock.now())
    user = add_user(runtime, "ops1", "ops")
    yield runtime, TestClient(app, headers={"Authorization": f"Bearer {token_for(runtime, user)}"})


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


def test_a_debtor_in_full_with_timeline_and_next_contact(api: tuple[Runtime, TestClient]) -> None:
    runtime, client = api
    debtor, account = add_debtor(runtime.factory, runtime.clock.now())
    add_messages(runtime, debtor, account, [BLOCKED])
    body = client.get(f"/api/debtors/{debtor}").json()
    assert {p["value"] for p in body["contact_points"]} >= {"+12125550143", "maria@example.com"}
    assert body["accounts"][0]["account_number"].startswith("4000123412340")
    assert body["accounts"][0]["balance"] == "812.40"
    assert {n["channel"]: n["verdict"] for n in body["next_contact"]} == {
        "sms": "allow",
        "email": "allow",
        "letter": "allow",
        "call": "allow",
    }
    outbound = [e for e in body["timeline"] if e["kind"] == "outbound"]
    assert outbound[0]["state"] == "blocked" and outbound[0]["rules"] == ["F7"]
    assert client.get("/api/debtors/424242").status_code == 404


def test_actions_are_applied_audited_and_refused_with_a_reason(
    api: tuple[Runtime, TestClient],
) -> None:
    runtime, client = api
    now = runtime.clock.now()
    debtor, account = add_debtor(runtime.factory, now)
    created = client.post(f"/api/debtors/{debtor}/notes", json={"body": "asked for a letter"})
    assert created.status_code == 201 and created.json()["id"] > 0
    hold = client.post(
        f"/api/debtors/{debtor}/holds", json={"kind": "attorney", "reason": "Smith LLP"}
    )
    assert hold.status_code == 201
    late = client.post(
        f"/api/debtors/{debtor}/promises",
        json={"account_id": account, "amount": "10", "due_on": "2020-01-01"},
    )
    assert late.status_code == 400 and "is in the past" in late.json()["detail"]
    _, foreign = add_debtor(runtime.factory, now, first="Other")
    wrong = client.post(
        f"/api/debtors/{debtor}/payments", json={"account_id": foreign, "amount": "5"}
    )
    assert wrong.status_code == 400 and "is not this debtor's" in wrong.json()["detail"]
    kind = client.post(f"/api/debtors/{debtor}/holds", json={"kind": "vacation"})
    assert kind.status_code == 422
    promise = client.post(
        f"/api/debtors/{debtor}/promises",
        json={
            "account_id": account,
            "amount": "50.00",
            "due_on": (now + timedelta(days=3)).date().isoformat(),
        },
    )
    assert promise.status_code == 201
    with runtime.factory() as session:
        assert session.scalars(select(Note.body)).all() == ["asked for a letter"]
        audit = session.execute(
            select(AuditEvent.actor, AuditEvent.action)
            .where(AuditEvent.debtor_id == debtor)
            .order_by(AuditEvent.id)
        ).all()
    assert [tuple(a) for a in audit] == [
        ("agent:ops1", "note.added"),
        ("agent:ops1", "hold.set"),
        ("agent:ops1", "promise.recorded"),
    ]


def test_inbox_campaigns_and_users(api: tuple[Runtime, TestClient]) -> None:
    runtime, client = api
    now = runtime.clock.now()
    debtor, _ = add_debtor(runtime.factory, now)
    with runtime.factory.begin() as session:
        reply = InboundMessage(
            channel="sms",
            from_address="+12125550143",
            body="call me",
            debtor_id=debtor,
            intent="callback",
            needs_agent=True,
            received_at=now,
        )
        session.add(reply)
        session.flush()
        session.add(Task(debtor_id=debtor, kind="callback", summary="x", created_at=now))
        reply_id = reply.id
    box = client.get("/api/inbox").json()
    assert box["replies"][0]["from_address"] == "********0143"
    assert box["replies"][0]["debtor_id"] == debtor and len(box["tasks"]) == 1
    handled = client.post(f"/api/inbox/replies/{reply_id}/handled").json()
    assert handled == {"ok": True, "id": reply_id, "changed": True}
    assert client.post(f"/api/inbox/replies/{reply_id}/handled").json()["changed"] is False
    assert client.get("/api/inbox").json()["replies"] == []

    assert client.post("/api/campaigns/standard/pause").json()["changed"] is True
    names = {c["name"]: c["status"] for c in client.get("/api/campaigns").json()}
    assert names == {"hardship": "active", "standard": "paused"}
    assert client.post("/api/campaigns/standard/resume").json()["changed"] is True

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
