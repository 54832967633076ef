"""The unknown sends page: listed masked and linked from the menu; ops settle each with the
page's forms (CSRF checked); agents see the list without the forms; bad ids and states are
4xx pages with the reason."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from outreach.db.casework import AuditEvent
from outreach.db.models import Message
from outreach.runtime import Runtime
from tests.console_helpers import add_user, sign_in
from tests.factories import add_debtor
from tests.unknowns_helpers import add_unknown

SID = "SM" + "ef" * 16


def test_ops_settle_unknown_sends_from_the_page(console: tuple[Runtime, TestClient, str]) -> None:
    runtime, client, csrf = console
    now = runtime.clock.now()
    debtor, account = add_debtor(runtime.factory, now)
    ids = [
        add_unknown(runtime.factory, now, debtor, account, provider_id=SID, step=step)
        for step in ("a", "b", "c")
    ]
    page = client.get("/console/unknown").text
    assert '<a href="/console/unknown">Unknown sends</a>' in page
    assert page.count(SID) == 3 and "********0143" in page and "+12125550143" not in page
    assert "outcome unknown (worker lost)" in page
    assert f'action="/console/unknown/{ids[0]}/resolve"' in page
    assert f'formaction="/console/unknown/{ids[0]}/requeue"' in page

    forged = client.post(f"/console/unknown/{ids[0]}/resolve", data={"sent": "true"})
    assert forged.status_code == 403
    sent = client.post(
        f"/console/unknown/{ids[0]}/resolve",
        data={"csrf_token": csrf, "sent": "true", "note": "carrier confirmed"},
    )
    assert sent.status_code == 200 and f"/console/unknown/{ids[0]}/" not in sent.text
    client.post(f"/console/unknown/{ids[1]}/resolve", data={"csrf_token": csrf, "sent": "false"})
    client.post(f"/console/unknown/{ids[2]}/requeue", data={"csrf_token": csrf, "note": ""})
    assert "No unknown sends." in client.get("/console/unknown").text
    with runtime.factory() as session:
        states = [session.get_one(Message, i).state for i in ids]
        audit = session.execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.detail)
            .where(AuditEvent.debtor_id == debtor)
            .order_by(AuditEvent.id)
        ).all()
    assert states == ["sent", "failed", "planned"]
    assert [tuple(a) for a in audit] == [
        ("agent:alice", "message.resolved_sent", {"note": "carrier confirmed"}),
        ("agent:alice", "message.resolved_not_sent", {}),
        ("agent:alice", "message.requeued", {"previous_provider_id": SID}),
    ]


def test_refusals_are_pages_with_the_reason(console: tuple[Runtime, TestClient, str]) -> None:
    runtime, client, csrf = console
    now = runtime.clock.now()
    debtor, account = add_debtor(runtime.factory, now)
    message_id = add_unknown(runtime.factory, now, debtor, account)
    form = {"csrf_token": csrf, "sent": "false"}
    assert client.post(f"/console/unknown/{message_id}/resolve", data=form).status_code == 200
    again = client.post(f"/console/unknown/{message_id}/requeue", data={"csrf_token": csrf})
    assert again.status_code == 400
    assert f"message {message_id} is failed, not unknown" in again.text
    missing = client.post("/console/unknown/999999/resolve", data=form)
    assert missing.status_code == 404 and "no message 999999" in missing.text
    bad = client.post(f"/console/unknown/{message_id}/resolve", data={"csrf_token": csrf})
    assert bad.status_code == 422 and "sent" in bad.text
    assert client.get("/console/unknown", params={"channel": "fax"}).status_code == 422
    assert client.get("/console/unknown", params={"channel": ""}).status_code == 200


def test_agents_see_unknown_sends_but_not_the_forms(
    console: tuple[Runtime, TestClient, str],
) -> None:
    runtime, client, _ = console
    now = runtime.clock.now()
    debtor, account = add_debtor(runtime.factory, now)
    message_id = add_unknown(runtime.factory, now, debtor, account)
    add_user(runtime, "bob", "agent")
    agent = TestClient(client.app)
    csrf = sign_in(agent, "bob")
    page = agent.get("/console/unknown")
    assert page.status_code == 200 and f'href="/console/messages/{message_id}"' in page.text
    assert "/resolve" not in page.text
    refused = agent.post(
        f"/console/unknown/{message_id}/resolve", data={"csrf_token": csrf, "sent": "true"}
    )
    assert refused.status_code == 403
    with runtime.factory() as session:
        assert session.get_one(Message, message_id).state == "unknown"
