"""GET /api/inbox (addresses masked) and marking a reply handled: once, then unchanged."""

from __future__ import annotations

from fastapi.testclient import TestClient

from outreach.db.casework import Task
from outreach.db.models import InboundMessage
from outreach.runtime import Runtime
from tests.factories import add_debtor


def test_the_inbox_lists_replies_and_tasks_until_handled(api: tuple[Runtime, TestClient]) -> None:
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
