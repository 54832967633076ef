"""GET /api/debtors/{id} in full, and the agent actions on it: applied and audited, or
refused with a reason."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from outreach.db.casework import AuditEvent, Note
from outreach.runtime import Runtime
from tests.console_helpers import add_messages
from tests.factories import add_debtor

BLOCKED = {"state": "blocked", "rules": ["F7"], "reasons": ["Opted out of +12125550143."]}


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
