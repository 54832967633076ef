"""`outreach providers [--json]` on a real database: a breaker opened by real results and the
workers' heartbeats, as two tables or one JSON object; a fresh database says nothing has run
yet; a database without the schema is refused with the line naming `outreach migrate`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

import outreach.db.models  # noqa: F401 - the audit table's foreign keys name its tables
from outreach.cli.common import console
from outreach.db.engine import session_factory
from outreach.pipeline.breaker import BreakerRules
from outreach.pipeline.health import Provider, Result, lock, report
from outreach.pipeline.workers import beat
from tests.cli.conftest import invoke

SMS = Provider("sms:+15005550006", "sms")


def test_an_open_breaker_and_the_workers_as_tables_and_json(
    config_dir: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The command reads the system clock: rows written a little before it runs.
    opened = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    rules = BreakerRules(consecutive_failures=2, open_seconds=600)
    factory = session_factory(engine)
    with factory.begin() as session:
        failures = [Result(True, "connection refused by +12125550143")] * 2
        report(session, lock(session, SMS, opened), failures, "w1", opened, rules)
        beat(session, "w1", ["sms", "email"], "running", opened)
        beat(session, "w0", ["letter"], "stopped", opened - timedelta(hours=2))

    code, out, err = invoke(config_dir, "providers", "--json")
    assert code == 0, err
    shown = json.loads(out)
    [sms] = shown["providers"]
    assert (sms["key"], sms["state"], sms["paused"], sms["consecutive_failures"]) == (
        SMS.key, "open", True, 2,
    )  # fmt: skip
    assert sms["retry_at"] == (opened + timedelta(seconds=600)).isoformat()
    assert sms["last_error"] == "connection refused by ********0143"
    assert [(e["action"], e["actor"]) for e in sms["events"]] == [("breaker_open", "worker:w1")]
    assert [(w["id"], w["state"], w["channels"]) for w in shown["workers"]] == [
        ("w1", "running", ["sms", "email"]),
        ("w0", "stopped", ["letter"]),
    ]
    assert 5 <= shown["workers"][0]["heartbeat_age_seconds"] < 60

    monkeypatch.setattr(console(), "width", 160)  # a terminal wide enough for whole cells
    code, out, err = invoke(config_dir, "providers")
    assert code == 0, err
    assert "Providers" in out and "Workers" in out
    assert SMS.key in out and "│ open " in out and "connection refused by ********0143" in out
    assert "+12125550143" not in out
    assert f"{opened + timedelta(seconds=600):%Y-%m-%d %H:%M:%S}" in out  # open until
    assert "│ running " in out and "│ stopped " in out and "2h 0m" in out


def test_a_fresh_database_says_nothing_has_run_yet(config_dir: Path) -> None:
    code, _, err = invoke(config_dir, "providers")
    assert code == 1 and err.strip().endswith("has no outreach schema: run `outreach migrate`")
    assert invoke(config_dir, "migrate")[0] == 0
    code, out, err = invoke(config_dir, "providers")
    assert (code, out.splitlines()) == (
        0,
        ["Providers: no provider has been used yet.", "Workers: no worker has run yet."],
    ), err
    code, out, _ = invoke(config_dir, "providers", "--json")
    assert (code, json.loads(out)) == (0, {"providers": [], "workers": []})
