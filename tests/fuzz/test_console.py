"""Schemathesis on the console, signed in as an admin: every page and form (the published
OpenAPI document leaves them out, so the schema here is built from their routes), with valid
and invalid query strings, ids and form fields, each form carrying the session's CSRF token
so that it reaches validation. No answer may be a server error; what the console answers
otherwise (a page, a redirect, an error page) is HTML, not the JSON the schema would say."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet

from outreach.auth.sessions import SESSION_COOKIE
from outreach.web.console.sign_in import SIGN_IN_COOKIE
from tests.fuzz.conftest import FUZZ, Seeded
from tests.route_schema import empty_runtime, every_route_schema

pytestmark = pytest.mark.db  # CI runs it again on PostgreSQL

SIGN_IN_TOKEN = "t" * 43  # the sign-in form's double-submit token, cookie and field alike

with empty_runtime() as _runtime:
    _document = every_route_schema(_runtime)

# Signing out would end the session every later example needs.
schema = (
    schemathesis.openapi.from_dict(_document)
    .include(path_regex=r"^/console/")
    .exclude(path="/console/sign-out")
)


@schema.parametrize()
@FUZZ
def test_no_console_page_or_form_answers_a_server_error(
    case: schemathesis.Case, seeded: Seeded, console: tuple[TestClient, str]
) -> None:
    client, csrf = console
    cookies = {SESSION_COOKIE: client.cookies[SESSION_COOKIE], SIGN_IN_COOKIE: SIGN_IN_TOKEN}
    token = SIGN_IN_TOKEN if case.path == "/console/sign-in" else csrf
    if isinstance(case.body, dict):
        body: dict[str, Any] = case.body
        body["csrf_token"] = token
    elif case.method == "POST" and isinstance(case.body, NotSet):  # a form of one button
        case.body, case.media_type = {"csrf_token": token}, "application/x-www-form-urlencoded"
    case.call_and_validate(app=seeded.app, cookies=cookies, checks=[not_a_server_error])
