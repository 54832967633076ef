"""The inbox lists replies that need a person (masked) until one is marked handled, with its
tasks."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from outreach.db.casework import AuditEvent, Task
from outreach.db.models import InboundMessage
from outreach.runtime import Runtime
from tests.factories import add_debtor


def test_the_inbox_lists_replies_that_need_a_person_until_handled(
    console: tuple[Runtime, TestClient, str],
) -> None:
    runtime, client, csrf = console
    now = runtime.clock.now()
    debtor, _ = add_debtor(runtime.factory, now)
    with runtime.factory.begin() as session:
        reply = InboundMessage(
            channel="sms",
            from_address="+12125550143",
            body="who is this? my card 4111111111111111",
            debtor_id=debtor,
            intent="unknown",
            needs_agent=True,
            received_at=now,
        )
        session.add(reply)
        session.flush()
        session.add(
            Task(
                debtor_id=debtor,
                inbound_id=reply.id,
                kind="reply",
                summary="read it",
                created_at=now,
            )
        )
        session.add(Task(debtor_id=debtor, kind="callback", summary="call at 5pm", created_at=now))
        reply_id = reply.id
    page = client.get("/console/inbox").text
    assert "who is this?" in page and "4111111111111111" not in page
    assert "+12125550143" not in page and "*******0143" in page
    assert f'href="/console/debtors/{debtor}#timeline">Maria Lopez</a>' in page
    assert "call at 5pm" in page and "read it" not in page  # its task rides with the reply

    done = client.post(f"/console/inbox/replies/{reply_id}/handled", data={"csrf_token": csrf})
    assert done.status_code == 200 and "who is this?" not in done.text
    with runtime.factory() as session:
        handled = session.get(InboundMessage, reply_id)
        assert handled is not None and handled.handled_by == "agent:alice"
        assert not handled.needs_agent
        tasks = {t.kind: t.status for t in session.scalars(select(Task))}
        assert tasks == {"reply": "done", "callback": "open"}
        actions = list(
            session.scalars(select(AuditEvent.action).where(AuditEvent.debtor_id == debtor))
        )
    assert actions == ["inbound.handled", "task.done"]
