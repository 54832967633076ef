"""Shared set-up for the console, API and auth tests: the served app on a real database,
users, signed-in clients, API tokens, and message-log rows written like the dispatcher's."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert

from outreach.auth.users import create_user, mint_api_token
from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.models import Message, MessageEvent
from outreach.db.users import User
from outreach.runtime import Runtime
from outreach.web.app import create_app

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_app(config: Config, engine: Engine, clock: SimulatedClock) -> tuple[Runtime, FastAPI]:
    runtime = Runtime(config, clock, engine=engine)
    return runtime, create_app(runtime, self_url="http://127.0.0.1:9", run_worker=False)


def add_user(runtime: Runtime, name: str, role: str, password: str = PASSWORD) -> User:
    with runtime.factory.begin() as session:
        return create_user(
            session, runtime.clock.now(), "test", name=name, role=role, password=password
        )


def token_for(runtime: Runtime, user: User) -> str:
    with runtime.factory.begin() as session:
        merged = session.merge(user)
        return mint_api_token(session, runtime.clock.now(), "test", merged, "test")


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no csrf_token field on the page"
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the CSRF token of the new session."""
    form = client.get("/console/sign-in")
    response = client.post(
        "/console/sign-in",
        data={"name": name, "password": password, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/console/log").text)


def add_messages(
    runtime: Runtime,
    debtor_id: int,
    account_id: int | None,
    specs: Sequence[dict[str, Any]],
    *,
    at: datetime | None = None,
) -> list[int]:
    """Write log rows as the dispatcher leaves them: a message with its decision, and the
    events of its life (planned, then its final state with the reason and rules)."""
    now = at or runtime.clock.now()
    ids = []
    with runtime.factory.begin() as session:
        for n, spec in enumerate(specs):
            state = spec.get("state", "sent")
            rules = spec.get("rules", [])
            reasons = spec.get("reasons", [])
            verdict = {"blocked": "block", "deferred": "defer"}.get(state, "allow")
            row = {
                "debtor_id": debtor_id,
                "account_id": account_id,
                "campaign": spec.get("campaign", "standard"),
                "step_id": spec.get("step", f"step-{n}"),
                "channel": spec.get("channel", "sms"),
                "template": spec.get("template", "sms/reminder"),
                "to_address": spec.get("to", "+12125550143"),
                "state": state,
                "due_at": spec.get("due_at", now),
                "created_at": now,
                "updated_at": now,
                "sent_at": now if state in ("sent", "delivered") else None,
                "attempts": 1,
                "decision": {
                    "verdict": verdict,
                    "not_before": None,
                    "rules": rules,
                    "reasons": reasons,
                    "zones": [],
                },
            }
            message_id = session.execute(insert(Message).returning(Message.id), row).scalar_one()
            ids.append(message_id)
            session.execute(
                insert(MessageEvent),
                [
                    {
                        "message_id": message_id,
                        "at": now - timedelta(minutes=1),
                        "from_state": None,
                        "to_state": "planned",
                        "cause": "planner",
                        "detail": None,
                    },
                    {
                        "message_id": message_id,
                        "at": now,
                        "from_state": "claimed",
                        "to_state": state,
                        "cause": "dispatcher:test",
                        "detail": {"reason": "; ".join(reasons) or "sent", "rules": rules},
                    },
                ],
            )
    return ids
