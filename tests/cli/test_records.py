"""`outreach attempts add` and `outreach inconvenient add|list|remove` against a real database."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select

from outreach.cli.main import main
from outreach.clock import SimulatedClock
from outreach.db.casework import AuditEvent, Call
from outreach.db.engine import session_factory
from outreach.db.models import Debtor
from tests.conftest import CONFIG_DIR
from tests.factories import add_debtor


@pytest.fixture
def external_id(
    engine: Engine, db_url: str, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch
) -> str:
    monkeypatch.setenv("OUTREACH_DATABASE_URL", db_url)
    factory = session_factory(engine)
    debtor_id, _ = add_debtor(factory, clock.now())
    with factory() as session:
        debtor = session.get(Debtor, debtor_id)
        assert debtor is not None
        return debtor.external_id


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main,
        ["--config-dir", str(CONFIG_DIR), *args],
    )
    return result.exit_code, result.stdout, result.stderr


def test_attempts_add_records_the_call_with_its_audit_event(
    external_id: str, engine: Engine
) -> None:
    code, out, err = run(
        "attempts", "add", "--debtor", external_id, "--outcome", "conversation",
        "--at", "2026-11-20T10:15:00-05:00", "--actor", "agent:alice", "--json",
    )  # fmt: skip
    assert code == 0, err
    recorded = json.loads(out)
    assert recorded["outcome"] == "conversation"
    assert recorded["at"] == "2026-11-20T15:15:00+00:00"
    with session_factory(engine)() as session:
        call = session.scalars(select(Call)).one()
        assert (call.outcome, call.actor, call.account_id is not None) == (
            "conversation",
            "agent:alice",
            True,
        )
        actions = [e.action for e in session.scalars(select(AuditEvent))]
        assert actions == ["call.conversation"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--debtor", "NOPE"], "error: --debtor: no debtor 'NOPE'"),
        (["--at", "2026-11-20T10:15:00"], "error: --at: needs a UTC offset"),
        (["--at", "yesterday"], "error: --at: not an ISO-8601 date-time"),
        (["--at", "2099-01-01T00:00:00Z"], "error: call time is in the future"),
        (["--account", "A-NONE"], "error: --account: no account 'A-NONE'"),
    ],
)
def test_attempts_add_rejects_bad_input_with_exit_2(
    external_id: str, args: list[str], message: str
) -> None:
    base = ["attempts", "add", "--debtor", external_id]
    if "--debtor" in args:
        base = ["attempts", "add"]
    code, _, err = run(*base, *args)
    assert code == 2
    assert err.startswith(message), err


def test_inconvenient_times_add_list_remove(external_id: str, engine: Engine) -> None:
    code, _, err = run(
        "inconvenient", "add", "--debtor", external_id, "--start", "09:00", "--end", "17:00",
        "--days", "mon,tue", "--channel", "sms",
    )  # fmt: skip
    assert code == 0, err
    code, out, _ = run("inconvenient", "list", "--debtor", external_id, "--json")
    (entry,) = [json.loads(line) for line in out.splitlines()]
    assert (entry["index"], entry["start"], entry["days"], entry["channel"]) == (
        0,
        "09:00",
        ["mon", "tue"],
        "sms",
    )
    code, _, err = run("inconvenient", "add", "--debtor", external_id, "--start", "9", "--end", "1")
    assert code == 2 and err.startswith("error: start must be HH:MM")
    code, _, _ = run("inconvenient", "remove", "--debtor", external_id, "0")
    assert code == 0
    code, out, _ = run("inconvenient", "list", "--debtor", external_id)
    assert out.strip() == "none"
    code, _, err = run("inconvenient", "remove", "--debtor", external_id, "3")
    assert code == 2 and "no inconvenient time #3" in err
