"""GET /api/unknown (masked, agents may read) and settling one (ops): 200 with what was done,
400 with the state for a message that is not unknown, 404 for no message, 403 for agents."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from outreach.db.casework import AuditEvent
from outreach.db.models import Message
from outreach.runtime import Runtime
from tests.console_helpers import add_user, token_for
from tests.factories import add_debtor
from tests.unknowns_helpers import add_unknown

SID = "SM" + "cd" * 16


def test_ops_list_resolve_and_requeue_unknown_sends(api: tuple[Runtime, TestClient]) -> None:
    runtime, client = api
    now = runtime.clock.now()
    debtor, account = add_debtor(runtime.factory, now)
    sms = add_unknown(runtime.factory, now, debtor, account, provider_id=SID, step="a")
    email = add_unknown(
        runtime.factory, now, debtor, account, channel="email", to="maria@example.com", step="b"
    )
    listed = client.get("/api/unknown", params={"channel": "sms"}).json()
    assert [(r["id"], r["to"], r["provider_id"]) for r in listed] == [(sms, "********0143", SID)]
    assert listed[0]["since"] == now.isoformat().replace("+00:00", "Z")
    assert len(client.get("/api/unknown").json()) == 2

    done = client.post(f"/api/unknown/{sms}/resolve", json={"sent": True, "note": "seen"})
    assert done.json() == {"ok": True, "id": sms, "changed": True}
    assert client.post(f"/api/unknown/{email}/requeue").json()["id"] == email
    assert client.get("/api/unknown").json() == []
    with runtime.factory() as session:
        assert [session.get_one(Message, i).state for i in (sms, email)] == ["sent", "planned"]
        actors = set(
            session.scalars(select(AuditEvent.actor).where(AuditEvent.debtor_id == debtor))
        )
    assert actors == {"agent:ops1"}


def test_bad_ids_states_and_roles_are_refused_with_a_reason(
    api: tuple[Runtime, TestClient],
) -> None:
    runtime, client = api
    now = runtime.clock.now()
    debtor, account = add_debtor(runtime.factory, now)
    message_id = add_unknown(runtime.factory, now, debtor, account)
    missing = client.post("/api/unknown/999999/resolve", json={"sent": False})
    assert (missing.status_code, missing.json()["detail"]) == (404, "no message 999999")
    no_body = client.post(f"/api/unknown/{message_id}/resolve")
    assert no_body.status_code == 422
    assert client.get("/api/unknown", params={"channel": "fax"}).status_code == 422

    agent = add_user(runtime, "agent1", "agent")
    reader = TestClient(
        client.app, headers={"Authorization": f"Bearer {token_for(runtime, agent)}"}
    )
    assert len(reader.get("/api/unknown").json()) == 1  # agents read
    forbidden = reader.post(f"/api/unknown/{message_id}/requeue")
    assert (forbidden.status_code, forbidden.json()["detail"]) == (403, "this needs the ops role")

    assert (
        client.post(f"/api/unknown/{message_id}/resolve", json={"sent": False}).status_code == 200
    )
    again = client.post(f"/api/unknown/{message_id}/requeue", json={"note": "retry"})
    assert again.status_code == 400
    assert again.json()["detail"].startswith(f"message {message_id} is failed, not unknown")
