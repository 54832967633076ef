"""Out-of-bounds input is a 422 naming the field, on SQLite and PostgreSQL alike, never a 500
(or, on SQLite, silently stored): ids past 64 bits, text with a NUL character or longer than
its column, times without a UTC offset or off the calendar, days the calendar cannot step
past, user names the audit trail cannot hold."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from outreach.db.casework import Call, Note, Payment, Promise
from outreach.runtime import Runtime
from tests.console_helpers import add_user, token_for
from tests.factories import add_debtor

BIG = 2**63  # one past the largest 64-bit id


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/debtors/{big}"),
        ("get", "/api/messages/{big}"),
        ("post", "/api/inbox/replies/{big}/handled"),
        ("post", "/api/inbox/tasks/{big}/done"),
        ("post", "/api/unknown/{big}/requeue"),
        ("get", "/api/messages?before={big}"),
    ],
)
def test_an_id_past_64_bits_is_refused_by_name(
    api: tuple[Runtime, TestClient], method: str, path: str
) -> None:
    _, client = api
    response = client.request(method, path.format(big=BIG))
    assert response.status_code == 422, response.text
    assert "less than or equal to 9223372036854775807" in response.text


def test_a_user_id_past_64_bits_is_refused_by_name(api: tuple[Runtime, TestClient]) -> None:
    runtime, client = api
    admin = {"Authorization": f"Bearer {token_for(runtime, add_user(runtime, 'boss', 'admin'))}"}
    for action in ("disable", "tokens"):
        response = client.post(f"/api/users/{BIG}/{action}", headers=admin)
        assert response.status_code == 422, response.text


def _post(client: TestClient, debtor: int, slug: str, body: dict[str, Any]) -> Any:
    return client.post(f"/api/debtors/{debtor}/{slug}", json=body)


def test_an_account_id_past_64_bits_in_a_body_is_refused(api: tuple[Runtime, TestClient]) -> None:
    runtime, client = api
    debtor, _ = add_debtor(runtime.factory, runtime.clock.now())
    response = _post(client, debtor, "notes", {"body": "hello", "account_id": BIG})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "account_id"]


@pytest.mark.parametrize(
    ("slug", "body", "field"),
    [
        ("notes", {"body": "left a\x00message"}, "body"),
        ("calls", {"outcome": "attempt", "note": "\x00"}, "note"),
        ("holds", {"kind": "attorney", "reason": "Smith\x00LLP"}, "reason"),
        ("payments", {"amount": "5", "method": "card\x00"}, "method"),
        ("payments", {"amount": "5", "reference": "r\x00"}, "reference"),
    ],
)
def test_text_with_a_nul_character_is_refused_and_nothing_is_written(
    api: tuple[Runtime, TestClient], slug: str, body: dict[str, Any], field: str
) -> None:
    """PostgreSQL cannot store NUL in text (a 500 there); SQLite stored it."""
    runtime, client = api
    debtor, account = add_debtor(runtime.factory, runtime.clock.now())
    response = _post(client, debtor, slug, {"account_id": account, **body})
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"][-1] == field and error["type"] == "string_pattern_mismatch"
    with runtime.factory() as session:
        for model in (Note, Call, Payment):
            assert session.scalar(select(func.count()).select_from(model)) == 0


def test_nul_in_a_query_string_or_a_path_is_refused(api: tuple[Runtime, TestClient]) -> None:
    _, client = api
    for path in ("/api/messages?debtor=D%00", "/api/campaigns/standard%00/pause"):
        response = client.request("get" if "messages" in path else "post", path)
        assert response.status_code == 422, path
        assert response.json()["detail"][0]["type"] == "string_pattern_mismatch"


@pytest.mark.parametrize("slug", ["notes", "calls", "payments", "promises", "holds", "opt-out"])
def test_a_body_that_is_not_utf8_is_a_422(api: tuple[Runtime, TestClient], slug: str) -> None:
    """Found by the long fuzz run: FastAPI's handler decoded the echoed body strictly (500)."""
    runtime, client = api
    debtor, _ = add_debtor(runtime.factory, runtime.clock.now())
    response = client.post(
        f"/api/debtors/{debtor}/{slug}", content=b"\x80", headers={"Content-Type": ""}
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["input"] == "\ufffd"


@pytest.mark.parametrize(("slug", "field"), [("notes", "body"), ("holds", "reason")])
def test_a_lone_surrogate_is_a_422(api: tuple[Runtime, TestClient], slug: str, field: str) -> None:
    """JSON may escape half a UTF-16 pair; echoing it back in the 422 was a 500."""
    runtime, client = api
    debtor, _ = add_debtor(runtime.factory, runtime.clock.now())
    response = client.post(
        f"/api/debtors/{debtor}/{slug}",
        content=f'{{"{field}": "\\ud800", "kind": "cease"}}'.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text


def test_text_longer_than_its_column_is_refused(api: tuple[Runtime, TestClient]) -> None:
    """Call.phone is 32 characters: PostgreSQL refused a longer one with a 500."""
    runtime, client = api
    debtor, _ = add_debtor(runtime.factory, runtime.clock.now())
    response = _post(client, debtor, "calls", {"outcome": "attempt", "phone": "+1" + "2" * 31})
    assert response.status_code == 422
    assert "at most 32 characters" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    ("paid_at", "reason"),
    [
        ("2026-11-30T10:00:00", "timezone"),  # no UTC offset: the column refused it (500)
        ("0001-01-01T00:00:00+01:00", "greater than or equal"),  # before year 1 in UTC
        ("9999-12-31T23:00:00-05:00", "less than or equal"),  # past year 9999 in UTC
    ],
)
def test_a_time_without_an_offset_or_off_the_calendar_is_refused(
    api: tuple[Runtime, TestClient], paid_at: str, reason: str
) -> None:
    runtime, client = api
    debtor, account = add_debtor(runtime.factory, runtime.clock.now())
    body = {"account_id": account, "amount": "5", "paid_at": paid_at}
    response = _post(client, debtor, "payments", body)
    assert response.status_code == 422, response.text
    assert reason in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize("amount", ["1_000", "1e5", "\u0665", "12.5.0", " "])
def test_an_amount_is_plain_digits(api: tuple[Runtime, TestClient], amount: str) -> None:
    """Decimal reads '1_000', '1e5' and Arabic-Indic digits; a payment of 100000 was taken."""
    runtime, client = api
    debtor, account = add_debtor(runtime.factory, runtime.clock.now())
    response = _post(client, debtor, "payments", {"account_id": account, "amount": amount})
    assert response.status_code == 422, response.text
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 0
    assert (
        _post(client, debtor, "payments", {"account_id": account, "amount": "12.50"}).status_code
        == 201
    )


def test_a_payment_in_the_future_is_refused(api: tuple[Runtime, TestClient]) -> None:
    runtime, client = api
    debtor, account = add_debtor(runtime.factory, runtime.clock.now())
    body = {"account_id": account, "amount": "5", "paid_at": "2027-01-01T00:00:00Z"}
    response = _post(client, debtor, "payments", body)
    assert response.status_code == 400 and "in the future" in response.json()["detail"]


def test_a_promise_date_past_the_calendar_code_is_refused(
    api: tuple[Runtime, TestClient],
) -> None:
    """9999-12-31 was stored; the compliance engine then steps a day past it (OverflowError)."""
    runtime, client = api
    debtor, account = add_debtor(runtime.factory, runtime.clock.now())
    body = {"account_id": account, "amount": "5", "due_on": "9999-12-31"}
    response = _post(client, debtor, "promises", body)
    assert response.status_code == 422
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Promise)) == 0


def test_the_last_day_of_the_calendar_in_a_log_filter_is_refused(
    api: tuple[Runtime, TestClient],
) -> None:
    """`until` is read as "before the next day": 9999-12-31 overflowed (500)."""
    _, client = api
    response = client.get("/api/messages", params={"until": "9999-12-31"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == "until"


def test_an_address_that_is_no_phone_number_is_refused_like_any_field(
    api: tuple[Runtime, TestClient],
) -> None:
    _, client = api
    response = client.get("/api/messages", params={"address": "not a phone"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "address"]


def test_a_user_name_the_audit_trail_cannot_hold_is_refused(
    api: tuple[Runtime, TestClient],
) -> None:
    """A user acts as "agent:NAME" in 64-character columns: a 64-character name was accepted,
    then each of that user's actions was a 500 on PostgreSQL."""
    runtime, client = api
    token = token_for(runtime, add_user(runtime, "boss", "admin"))
    headers = {"Authorization": f"Bearer {token}"}
    long = client.post(
        "/api/users",
        json={"name": "a" * 59, "role": "agent", "password": "p" * 12},
        headers=headers,
    )
    assert long.status_code == 422 and "at most 58 characters" in long.text
    longest = "a" * 58
    made = client.post(
        "/api/users",
        json={"name": longest, "role": "agent", "password": "p" * 12},
        headers=headers,
    )
    assert made.status_code == 201
    agent_token = client.post(f"/api/users/{made.json()['id']}/tokens", headers=headers).json()
    debtor, _ = add_debtor(runtime.factory, runtime.clock.now())
    note = client.post(
        f"/api/debtors/{debtor}/notes",
        json={"body": "called back"},
        headers={"Authorization": f"Bearer {agent_token['token']}"},
    )
    assert note.status_code == 201
