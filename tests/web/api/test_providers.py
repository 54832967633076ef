"""GET /api/providers: the breakers (opened by real results, last error masked, transitions
newest first) and the workers, the object `outreach providers --json` prints; any signed-in
role reads it, nobody else."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from outreach.clock import SimulatedClock
from outreach.pipeline.breaker import BreakerRules
from outreach.pipeline.health import Provider, Result, admit, lock, report
from outreach.pipeline.workers import beat
from outreach.runtime import Runtime
from tests.console_helpers import add_user, token_for

SMS = Provider("sms:+15005550006", "sms")
RULES = BreakerRules(consecutive_failures=2)


def _z(text: str) -> str:
    return text.replace("+00:00", "Z")


def test_agents_read_breakers_and_workers(
    api: tuple[Runtime, TestClient], clock: SimulatedClock
) -> None:
    runtime, ops = api
    assert ops.get("/api/providers").json() == {"providers": [], "workers": []}
    opened = runtime.clock.now()
    with runtime.factory.begin() as session:
        failures = [Result(True, "HTTP 500 for maria@example.com")] * 2
        report(session, lock(session, SMS, opened), failures, "w1", opened, RULES)
        beat(session, "w1", ["sms"], "running", opened)
    clock.advance(timedelta(seconds=15))
    with runtime.factory.begin() as session:
        assert (
            admit(
                session,
                lock(session, SMS, runtime.clock.now()),
                5,
                "w1",
                runtime.clock.now(),
                RULES,
            )
            == 1
        )  # the trial

    agent = add_user(runtime, "agent1", "agent")
    client = TestClient(ops.app, headers={"Authorization": f"Bearer {token_for(runtime, agent)}"})
    response = client.get("/api/providers")
    assert response.status_code == 200
    body = response.json()
    [sms] = body["providers"]
    trial_until = runtime.clock.now() + timedelta(seconds=RULES.trial_seconds)
    assert {k: sms[k] for k in ("key", "channel", "state", "paused", "trial_owner")} == {
        "key": SMS.key,
        "channel": "sms",
        "state": "half_open",
        "paused": True,
        "trial_owner": "w1",
    }
    assert (sms["opened_at"], sms["retry_at"]) == (
        _z(opened.isoformat()),
        _z(trial_until.isoformat()),
    )
    assert sms["last_error"] == "HTTP 500 for *************.com"
    assert [(e["action"], e["actor"]) for e in sms["events"]] == [
        ("breaker_half_open", "worker:w1"),
        ("breaker_open", "worker:w1"),
    ]
    [worker] = body["workers"]
    assert (worker["id"], worker["state"], worker["channels"]) == ("w1", "running", ["sms"])
    assert worker["heartbeat_age_seconds"] == 15.0

    anonymous = TestClient(ops.app).get("/api/providers")
    assert anonymous.status_code == 401
