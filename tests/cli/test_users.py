"""`outreach users`: the way a new installation gets its first user and API tokens."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.engine import make_engine
from outreach.db.users import ApiToken, User
from outreach.runtime import Runtime
from outreach.web.app import create_app
from tests.cli.conftest import invoke
from tests.processes import outreach_command, outreach_env


def test_add_token_list_and_disable(config_dir: Path, db_url: str, clock: SimulatedClock) -> None:
    assert invoke(config_dir, "migrate")[0] == 0
    assert invoke(
        config_dir,
        "users",
        "add",
        "ana",
        "--role",
        "ops",
        "--password-stdin",
        stdin="a long passphrase\n",
    )[:2] == (0, "User ana (ops) created.\n")
    code, token, _ = invoke(config_dir, "users", "token", "ana")
    assert code == 0 and len(token.strip()) >= 40
    engine = make_engine(db_url)
    with engine.connect() as conn:
        stored = conn.execute(select(ApiToken.token_hash)).scalar_one()
        assert token.strip() not in stored and "a long passphrase" not in str(
            conn.execute(select(User.password_hash)).scalar_one()
        )
    runtime = Runtime(Config(config_dir), clock, engine=engine)
    api = TestClient(
        create_app(runtime, self_url="http://127.0.0.1:9", run_worker=False),
        headers={"Authorization": f"Bearer {token.strip()}"},
    )
    assert api.get("/api/me").json() == {"name": "ana", "role": "ops"}

    code, listing, _ = invoke(config_dir, "users", "list")
    assert code == 0 and "ana" in listing and "active" in listing
    assert invoke(config_dir, "users", "disable", "ana")[:2] == (0, "User ana disabled.\n")
    assert api.get("/api/me").status_code == 401
    engine.dispose()


def test_bad_input_exits_2_and_says_why(config_dir: Path) -> None:
    assert invoke(config_dir, "migrate")[0] == 0
    code, _, err = invoke(
        config_dir, "users", "add", "bo", "--role", "agent", "--password-stdin", stdin="short\n"
    )
    assert code == 2 and "password must be at least 10 characters" in err
    code, _, err = invoke(config_dir, "users", "add", "bo", "--role", "boss", "--password-stdin")
    assert code == 2 and "'boss' is not one of 'agent', 'ops', 'admin'" in err
    code, _, err = invoke(config_dir, "users", "token", "nobody")
    assert code == 2 and "no user 'nobody'" in err


def test_the_user_commands_work_in_a_process_of_their_own(config_dir: Path) -> None:
    """As an operator runs them: a fresh interpreter has loaded no tables but the ones the
    command imports (the audit row's foreign keys once failed there with a traceback)."""
    assert invoke(config_dir, "migrate")[0] == 0

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        command = outreach_command(config_dir, "users", *args)
        return subprocess.run(
            command, env=outreach_env(), input=stdin, capture_output=True, text=True, timeout=60
        )

    added = run("add", "ana", "--role", "ops", "--password-stdin", stdin="a long passphrase\n")
    assert (added.returncode, added.stdout) == (0, "User ana (ops) created.\n"), added.stderr
    token = run("token", "ana")
    assert token.returncode == 0 and token.stdout.strip(), token.stderr
    disabled = run("disable", "ana")
    assert disabled.returncode == 0, disabled.stderr
