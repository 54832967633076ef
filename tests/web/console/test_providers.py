"""The providers page: linked from the menu for every role; breakers with their state as a
badge, open until, the masked last error and recent transitions; workers with their
heartbeat age; a fresh database says nothing has run yet."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from outreach.clock import SimulatedClock
from outreach.pipeline.breaker import BreakerRules
from outreach.pipeline.health import Provider, Result, lock, report
from outreach.pipeline.workers import beat
from outreach.runtime import Runtime
from tests.console_helpers import add_user, sign_in

SMS = Provider("sms:+15005550006", "sms")
EMAIL = Provider("email:smtp.example.test:587", "email")


def test_the_page_shows_an_open_breaker_and_the_workers(
    console: tuple[Runtime, TestClient, str], clock: SimulatedClock
) -> None:
    runtime, client, _ = console
    empty = client.get("/console/providers")
    assert empty.status_code == 200
    assert "No provider has been used yet." in empty.text
    assert "No worker has run yet." in empty.text

    opened = runtime.clock.now()
    rules = BreakerRules(consecutive_failures=2)
    with runtime.factory.begin() as session:
        failures = [Result(True, "Twilio 500 for +12125550143")] * 2
        report(session, lock(session, SMS, opened), failures, "w1", opened, rules)
        report(session, lock(session, EMAIL, opened), [Result(False)], "w1", opened, rules)
        beat(session, "w1", ["sms", "email"], "running", opened)
        beat(session, "w0", ["letter"], "lost", opened - timedelta(hours=1))
    clock.advance(timedelta(seconds=42))

    agent = add_user(runtime, "bob", "agent")
    reader = TestClient(client.app)
    sign_in(reader, agent.name)
    page = reader.get("/console/providers").text
    assert '<a href="/console/providers">Providers</a>' in page
    assert '<span class="state state-open">open</span>' in page
    assert '<span class="state state-closed">closed</span>' in page
    until = opened + timedelta(seconds=rules.open_seconds)
    assert f"{until:%Y-%m-%d %H:%M} UTC" in page and "trial due" in page  # rested by now
    assert "Twilio 500 for ********0143" in page and "+12125550143" not in page
    assert f'{opened:%Y-%m-%d %H:%M} UTC</span> <span class="state state-open">open' in page
    assert "worker:w1" in page
    assert '<span class="state state-running">running</span>' in page
    assert '<span class="state state-lost">lost</span>' in page
    assert ">42s<" in page and ">1h 0m<" in page
    assert "sms, email" in page
    assert page.index(">w1<") < page.index(">w0<")  # alive first
