"""The console refuses out-of-bounds input with its error page (422, naming the field) on
SQLite and PostgreSQL alike: a NUL character in a form or a query string, an id past 64
bits, a day the log's filter cannot step past."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from outreach.db.casework import Note
from outreach.runtime import Runtime
from tests.console_helpers import csrf_of
from tests.factories import add_debtor


def test_a_note_with_a_nul_character_is_refused_on_the_error_page(
    console: tuple[Runtime, TestClient, str],
) -> None:
    runtime, client, csrf = console
    debtor, _ = add_debtor(runtime.factory, runtime.clock.now())
    response = client.post(
        f"/console/debtors/{debtor}/notes",
        data={"csrf_token": csrf, "body": "left a\x00message"},
        follow_redirects=False,
    )
    assert response.status_code == 422 and "body: String should match pattern" in response.text
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Note)) == 0


def test_a_debtor_id_past_64_bits_is_refused(console: tuple[Runtime, TestClient, str]) -> None:
    _, client, _ = console
    response = client.get(f"/console/debtors/{2**63}")
    assert response.status_code == 422 and "less than or equal to" in response.text


def test_the_last_day_of_the_calendar_in_the_log_filter_is_refused(
    console: tuple[Runtime, TestClient, str],
) -> None:
    _, client, _ = console
    for path in ("/console/log", "/console/log.csv"):
        response = client.get(path, params={"until": "9999-12-31"})
        assert response.status_code == 422 and "until" in response.text, path


def test_a_sign_in_name_with_a_nul_character_is_refused(
    console: tuple[Runtime, TestClient, str],
) -> None:
    """PostgreSQL cannot compare text with a NUL in it: the user lookup was a 500 there."""
    _, client, _ = console
    client.cookies.clear()
    form = client.get("/console/sign-in")
    response = client.post(
        "/console/sign-in",
        data={"name": "alice\x00", "password": "whatever123", "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 422 and "name: String should match pattern" in response.text
