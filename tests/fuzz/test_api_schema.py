"""Schemathesis against the app's own OpenAPI document, with an admin's API token: every
route of the JSON API, the public pages and the health checks, with valid and invalid
input. No answer may be a server error, and every answer must be one the schema documents
(status, content type, body)."""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.conftest import FUZZ, Seeded
from tests.route_schema import served_schema

pytestmark = pytest.mark.db  # CI runs it again on PostgreSQL

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# The sandbox's stand-ins are not the product; the Twilio webhooks have their own fuzz,
# which signs its requests (an unsigned one never gets past the signature check).
schema = schemathesis.openapi.from_dict(served_schema()).exclude(
    path_regex=r"^/(sandbox|webhooks)/"
)


@schema.parametrize()
@FUZZ
def test_no_route_answers_a_server_error(case: schemathesis.Case, seeded: Seeded) -> None:
    token = {"Authorization": f"Bearer {seeded.token}"}
    case.call_and_validate(app=seeded.app, headers=token, checks=CHECKS)
