"""The console as an agent uses it: find messages, read a debtor's record and timeline, act
(each action audited with who and when), work the inbox; ops watch and steer campaigns;
admins manage users. A real database, the real app, its real forms."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.casework import AuditEvent, Call, Note, Payment, Promise, Task
from outreach.db.models import Account, CampaignRow, ContactPoint, Enrollment, Hold, InboundMessage
from outreach.pipeline.planner import sync_campaigns
from outreach.runtime import Runtime
from tests.console_helpers import add_messages, add_user, make_app, sign_in
from tests.factories import add_debtor

BLOCKED = {
    "state": "blocked",
    "rules": ["F6"],
    "reasons": ["The consumer asked us in writing to stop communicating."],
}


@pytest.fixture
def console(
    config: Config, engine: Engine, clock: SimulatedClock
) -> Iterator[tuple[Runtime, TestClient, str]]:
    config.file = config.file.model_copy(
        update={"console": config.file.console.model_copy(update={"page_size": 10})}
    )
    runtime, app = make_app(config, engine, clock)
    with runtime.factory.begin() as session:
        sync_campaigns(session, config.campaigns, clock.now())
    add_user(runtime, "alice", "admin")
    client = TestClient(app)
    yield runtime, client, sign_in(client, "alice")


def _next_contact(html: str) -> dict[str, str]:
    """The debtor page's "next allowed contact" cells by channel."""
    section = html.split('id="h-next"')[1].split("</table>")[0]
    rows = re.findall(r"<tr>\s*<td>(\w+)</td><td>[^<]*</td>\s*<td[^>]*>(.*?)</td>", section)
    return dict(rows)


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<a href="/console/messages/(\d+)">', html)]


def test_the_log_pages_newest_first_with_a_cursor_that_visits_each_row_once(
    console: tuple[Runtime, TestClient, str],
) -> None:
    runtime, client, _ = console
    debtor, account = add_debtor(runtime.factory, runtime.clock.now())
    ids = add_messages(runtime, debtor, account, [{} for _ in range(23)])
    seen: list[int] = []
    url = "/console/log"
    while url:
        page = client.get(url)
        assert page.status_code == 200
        seen += _ids(page.text)
        older = re.search(r'<a href="(\?[^"]+)" rel="next">', page.text)
        url = "/console/log" + older.group(1).replace("&amp;", "&") if older else ""
    assert seen == sorted(ids, reverse=True)


def test_log_filters_find_the_message_and_show_why_it_was_blocked(
    console: tuple[Runtime, TestClient, str],
) -> None:
    runtime, client, _ = console
    now = runtime.clock.now()
    maria, maria_account = add_debtor(runtime.factory, now)
    john, john_account = add_debtor(runtime.factory, now, first="John", last="Doe")
    sent, blocked = add_messages(runtime, maria, maria_account, [{}, BLOCKED])
    (email,) = add_messages(
        runtime,
        john,
        john_account,
        [{"channel": "email", "to": "john@example.com", "template": "email/first_reminder"}],
    )
    (old,) = add_messages(
        runtime, john, john_account, [{"campaign": "hardship"}], at=now - timedelta(days=40)
    )

    def found(query: str) -> list[int]:
        page = client.get(f"/console/log?{query}")
        assert page.status_code == 200, page.text
        return _ids(page.text)

    assert found("") == sorted([old, email, blocked, sent], reverse=True)
    assert found("state=blocked&rule=F6") == [blocked]
    empty = "debtor=&account=&address=&channel=&state=&rule=&campaign=&since=&until="
    assert found(empty) == found("")  # the filter form sends every field, most empty
    assert found("rule=F1") == []
    assert found("channel=email") == [email]
    assert found("address=(212)+555-0143") == [old, blocked, sent]  # any phone format
    assert found("address=JOHN@example.com") == [email]
    assert found("campaign=hardship") == [old]
    since = (now - timedelta(days=1)).date().isoformat()
    assert old not in found(f"since={since}")
    assert found(f"until={(now - timedelta(days=39)).date().isoformat()}") == [old]
    debtor_ext = client.get(f"/console/debtors/{maria}").text.split("<small>")[1][:6]
    assert found(f"debtor={debtor_ext}") == [blocked, sent]

    page = client.get("/console/log?state=blocked").text
    assert "The consumer asked us in writing to stop communicating." in page
    assert 'title="Consumer asked to cease communication">F6</abbr>' in page
    assert "+12125550143" not in page and "********0143" in page  # masked in lists
    assert f'href="/console/debtors/{maria}"' in page

    bad = client.get("/console/log?state=lost&since=yesterday")
    assert bad.status_code == 422
    assert (
        "state: Input should be" in bad.text and "since: Input should be a valid date" in bad.text
    )


def test_the_csv_export_streams_the_filtered_set_masked(
    console: tuple[Runtime, TestClient, str],
) -> None:
    runtime, client, _ = console
    debtor, account = add_debtor(runtime.factory, runtime.clock.now())
    add_messages(runtime, debtor, account, [{}, BLOCKED, {}, BLOCKED])
    response = client.get("/console/log.csv?state=blocked")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 2 and {r["state"] for r in rows} == {"blocked"}
    assert rows[0]["rules"] == "F6" and rows[0]["to"] == "********0143"
    assert "+12125550143" not in response.text and "4000123412" not in response.text


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


def test_the_campaign_dashboard_charts_outcomes_and_ops_steer_campaigns(
    console: tuple[Runtime, TestClient, str],
) -> None:
    runtime, client, csrf = console
    now = runtime.clock.now()
    debtor, account = add_debtor(runtime.factory, now)
    add_messages(
        runtime, debtor, account, [{}, {}, BLOCKED, {"channel": "email", "state": "failed"}]
    )
    page = client.get("/console/campaigns").text
    assert page.count('<svg class="chart"') == 2  # standard: sms and email; hardship: none
    assert f"<title>{now.date().isoformat()}: 2 sent</title>" in page
    assert "Totals: sent 2 · delivered 0 · deferred 0 · blocked 1 · failed 1" in page
    assert "F6</abbr> Consumer asked to cease communication</a>: 1" in page

    assert (
        client.post("/console/campaigns/standard/pause", data={"csrf_token": csrf}).status_code
        == 200
    )
    ok = client.post(
        "/console/campaigns/hardship/enroll", data={"csrf_token": csrf, "account": "A" + "x"}
    )
    assert ok.status_code == 400 and "no account &#39;Ax&#39;" in ok.text
    with runtime.factory() as session:
        external = session.get(Account, account).external_id  # type: ignore[union-attr]
    enrolled = client.post(
        "/console/campaigns/hardship/enroll", data={"csrf_token": csrf, "account": external}
    )
    assert enrolled.status_code == 200
    again = client.post(
        "/console/campaigns/hardship/enroll", data={"csrf_token": csrf, "account": external}
    )
    assert again.status_code == 400 and "already in campaign hardship" in again.text
    assert (
        client.post("/console/campaigns/nope/pause", data={"csrf_token": csrf}).status_code == 404
    )
    with runtime.factory() as session:
        statuses = dict(session.execute(select(CampaignRow.name, CampaignRow.status)).all())
        enrollment = session.scalars(select(Enrollment)).one()
        actions = list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.action.like("campaign.%"))
                .order_by(AuditEvent.id)
            )
        )
    assert statuses == {"standard": "paused", "hardship": "active"}
    assert enrollment.account_id == account and enrollment.next_due_at == now
    assert actions == ["campaign.paused", "campaign.enrolled"]


def test_admins_add_users_and_mint_tokens_shown_once(
    console: tuple[Runtime, TestClient, str],
) -> None:
    _, client, csrf = console
    added = client.post(
        "/console/users",
        data={"csrf_token": csrf, "name": "bob", "role": "agent", "password": "a long password"},
    )
    assert added.status_code == 200 and "<td>bob</td><td>agent</td>" in added.text
    short = client.post(
        "/console/users", data={"csrf_token": csrf, "name": "eve", "role": "agent", "password": "x"}
    )
    assert short.status_code == 422 and "password: String should have at least 10" in short.text
    bob_id = re.search(r'action="/console/users/(\d+)/tokens"', added.text.split("bob")[1])
    assert bob_id
    minted = client.post(f"/console/users/{bob_id.group(1)}/tokens", data={"csrf_token": csrf})
    token = re.search(r"<code>([^<]+)</code>", minted.text)
    assert token
    api = TestClient(client.app, headers={"Authorization": f"Bearer {token.group(1)}"})
    assert api.get("/api/me").json() == {"name": "bob", "role": "agent"}
    assert "<code>" not in client.get("/console/users").text  # shown once
