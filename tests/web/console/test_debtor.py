"""A debtor's page (the record in full, the timeline, the next allowed contact) and the agent's
forms on it, each applied and audited with who and when, or refused with the reason."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select

from outreach.db.casework import AuditEvent, Call, Note, Payment, Promise
from outreach.db.models import Account, ContactPoint, Hold, InboundMessage
from outreach.runtime import Runtime
from tests.console_helpers import add_messages
from tests.factories import add_debtor

BLOCKED = {
    "state": "blocked",
    "rules": ["F6"],
    "reasons": ["The consumer asked us in writing to stop communicating."],
}


def _next_contact(html: str) -> dict[str, str]:
    """The debtor page's "next allowed contact" cells by channel."""
    section = html.split('id="h-next"')[1].split("</table>")[0]
    rows = re.findall(r"<tr>\s*<td>(\w+)</td><td>[^<]*</td>\s*<td[^>]*>(.*?)</td>", section)
    return dict(rows)


def test_the_debtor_page_shows_the_record_in_full_the_timeline_and_next_contact(
    console: tuple[Runtime, TestClient, str],
) -> None:
    runtime, client, _ = console
    now = runtime.clock.now()
    debtor, account = add_debtor(runtime.factory, now)
    # 15:00 UTC is 10:00 in New York: SMS, email and calls may go now (letters: no window).
    assert _next_contact(client.get(f"/console/debtors/{debtor}").text) == {
        c: '<span class="good">now</span>' for c in ("sms", "email", "letter", "call")
    }
    add_messages(runtime, debtor, account, [{}, BLOCKED])
    with runtime.factory.begin() as session:
        session.add(
            InboundMessage(
                channel="sms",
                from_address="+12125550143",
                body="can I pay next week?",
                debtor_id=debtor,
                intent="promise",
                action="asked an agent to call",
                needs_agent=True,
                received_at=now,
            )
        )
    page = client.get(f"/console/debtors/{debtor}").text
    assert "+12125550143" in page and "maria@example.com" in page  # full values here
    assert "4000123412340" in page and "812.40" in page
    assert "sms reply from +12125550143" in page and "can I pay next week?" in page
    assert "promise" in page and "Action: asked an agent to call" in page
    assert "The consumer asked us in writing to stop communicating." in page
    # One SMS went out today: the daily electronic cap (F10) moves SMS and email to tomorrow.
    tomorrow = (now + timedelta(days=1)).strftime("%Y-%m-%d %H:%M UTC")
    assert _next_contact(page)["sms"] == _next_contact(page)["email"] == tomorrow
    assert 'title="Frequency cap reached">F10</abbr>' in page

    with runtime.factory.begin() as session:
        session.add(
            Hold(debtor_id=debtor, kind="cease", reason="letter", source="t", created_at=now)
        )
    page = client.get(f"/console/debtors/{debtor}").text
    assert _next_contact(page) == {
        c: '<span class="bad">blocked</span>' for c in ("sms", "email", "letter", "call")
    }
    assert 'title="Consumer asked to cease communication">F6</abbr>' in page
    assert client.get("/console/debtors/999999").status_code == 404


def test_agent_actions_are_applied_and_audited_with_who_and_when(
    console: tuple[Runtime, TestClient, str],
) -> None:
    runtime, client, csrf = console
    now = runtime.clock.now()
    debtor, account = add_debtor(runtime.factory, now)
    with runtime.factory() as session:
        phone = session.scalars(
            select(ContactPoint).where(
                ContactPoint.debtor_id == debtor, ContactPoint.kind == "phone"
            )
        ).one()

    def post(path: str, **data: str) -> int:
        response = client.post(
            f"/console/debtors/{debtor}/{path}",
            data={"csrf_token": csrf, **data},
            follow_redirects=False,
        )
        return response.status_code

    assert post("notes", body="Says she was laid off; call back Friday") == 303
    assert post("calls", outcome="conversation", phone=phone.value, account_id=str(account)) == 303
    assert post("holds", kind="dispute", account_id=str(account), reason="says not hers") == 303
    assert post("holds/release", kind="dispute", account_id=str(account), reason="verified") == 303
    assert post("payments", account_id=str(account), amount="12.40", method="card") == 303
    due = (now + timedelta(days=7)).date().isoformat()
    assert post("promises", account_id=str(account), amount="100.00", due_on=due) == 303
    assert post("opt-out", contact_point_id=str(phone.id), opted_out="true") == 303

    with runtime.factory() as session:
        assert session.scalars(select(Note.body)).one() == "Says she was laid off; call back Friday"
        assert session.scalars(select(Call.outcome)).one() == "conversation"
        assert session.scalars(select(Hold.released_at)).one() == now
        assert session.scalars(select(Payment.amount)).one() == Decimal("12.40")
        assert session.get(Account, account).balance == 800  # type: ignore[union-attr]
        assert session.scalars(select(Promise.status)).one() == "open"
        assert session.get(ContactPoint, phone.id).opted_out_at == now  # type: ignore[union-attr]
        audit = list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.debtor_id == debtor).order_by(AuditEvent.id)
            )
        )
    assert [a.action for a in audit] == [
        "note.added",
        "call.conversation",
        "hold.set",
        "hold.released",
        "payment.recorded",
        "promise.recorded",
        "contact.opt_out",
    ]
    assert {a.actor for a in audit} == {"agent:alice"} and {a.at for a in audit} == {now}

    page = client.get(f"/console/debtors/{debtor}").text
    assert "Says she was laid off; call back Friday" in page
    assert "Hold released: dispute" in page and "Payment of 12.40 (card)" in page

    # Refusals say why, and write nothing.
    refused = client.post(
        f"/console/debtors/{debtor}/promises",
        data={
            "csrf_token": csrf,
            "account_id": str(account),
            "amount": "5",
            "due_on": "2020-01-01",
        },
    )
    assert refused.status_code == 400 and "promise date 2020-01-01 is in the past" in refused.text
    _, other_account = add_debtor(runtime.factory, now, first="Other")
    assert post("notes", body="wrong file", account_id=str(other_account)) == 400
    invalid = client.post(
        f"/console/debtors/{debtor}/payments",
        data={"csrf_token": csrf, "account_id": str(account), "amount": "-3"},
    )
    assert invalid.status_code == 422 and "amount: Input should be greater than 0" in invalid.text
    with runtime.factory() as session:
        assert len(list(session.scalars(select(Note)))) == 1
