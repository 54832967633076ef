"""Schemathesis against the app's own OpenAPI document, with an admin's API token: every
route of the JSON API, the public pages and the health checks, with valid and invalid
input. No answer may be a server error, and every answer must be one the schema documents
(status, content type, body)."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.engine import make_engine
from outreach.runtime import Runtime
from outreach.web.app import create_app
from tests.conftest import CONFIG_DIR
from tests.fuzz.conftest import FUZZ, Seeded

pytestmark = pytest.mark.db  # CI runs it again on PostgreSQL

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _openapi() -> dict[str, Any]:
    """The served app's OpenAPI document (it depends on no data: an empty database will do).
    Each route's test then runs against its own seeded app."""
    with tempfile.TemporaryDirectory() as tmp:
        config = Config(CONFIG_DIR).relocate(Path(tmp))
        clock = SimulatedClock(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
        runtime = Runtime(config, clock, engine=make_engine("sqlite://"))
        document: dict[str, Any] = create_app(
            runtime, self_url="http://127.0.0.1:9", run_worker=False
        ).openapi()
        runtime.engine.dispose()
        return document


# The sandbox's stand-ins are not the product; the Twilio webhooks have their own fuzz,
# which signs its requests (an unsigned one never gets past the signature check).
schema = schemathesis.openapi.from_dict(_openapi()).exclude(path_regex=r"^/(sandbox|webhooks)/")


@schema.parametrize()
@FUZZ
def test_no_route_answers_a_server_error(case: schemathesis.Case, seeded: Seeded) -> None:
    token = {"Authorization": f"Bearer {seeded.token}"}
    case.call_and_validate(app=seeded.app, headers=token, checks=CHECKS)
