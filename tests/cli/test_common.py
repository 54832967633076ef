"""Commands that use the database check its schema first and stop with one line naming
`outreach migrate`: never a traceback, never a silent migration, never a password shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from outreach.db.engine import make_engine, upgrade
from tests.cli.conftest import invoke
from tests.conftest import free_port
from tests.processes import outreach_env, run_outreach, set_toml

LONG_KEY = "k" * 32


def only_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_log_on_a_fresh_checkout_says_run_migrate(config_dir: Path, db_url: str) -> None:
    done = run_outreach(config_dir, "log", env=outreach_env(OUTREACH_DATABASE_URL=db_url))
    assert done.returncode == 1
    line = only_line(done.stderr)
    assert line.startswith("error: the database at ")
    assert line.endswith(" has no outreach schema: run `outreach migrate`")
    assert done.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["log"],
        ["log", "--inbound"],
        ["import", "config/sample/portfolio.csv"],
        ["users", "list"],
        ["bounces", "process", "--maildir", "mail"],
        ["run", "--once"],
        ["serve", "--port", "9"],
        ["attempts", "add", "--debtor", "D1", "--outcome", "attempt"],
        ["inconvenient", "list", "--debtor", "D1"],
        ["providers"],
    ],
)
def test_every_database_command_refuses_a_schema_behind_and_leaves_it(
    config_dir: Path, db_url: str, args: list[str]
) -> None:
    engine = make_engine(db_url)
    upgrade(engine, "0004")
    code, _, err = invoke(config_dir, *args, stdin="x\n")
    assert code == 1, err
    assert only_line(err).endswith(
        " is at revision 0004, this outreach needs 0007: run `outreach migrate`"
    )
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0004"
    engine.dispose()


def test_a_schema_from_a_newer_outreach_is_named_as_such(config_dir: Path, db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    for command in ("log", "migrate"):
        code, _, err = invoke(config_dir, command)
        assert code == 1
        assert "is at revision 0099, which this outreach does not know" in only_line(err)


def test_an_unreachable_database_is_one_line_without_its_password(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    url = f"postgresql+psycopg://ops:s3cret-pw@127.0.0.1:{port}/outreach?password=s3cret-pw"
    done = run_outreach(config_dir, "log", env=outreach_env(OUTREACH_DATABASE_URL=url))
    assert done.returncode == 1
    line = only_line(done.stderr)
    assert line.startswith(
        f"error: cannot open the database at postgresql+psycopg://ops@127.0.0.1:{port}/outreach:"
    )
    assert "s3cret" not in done.stderr + done.stdout


def test_a_database_url_that_is_not_one_is_bad_input(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTREACH_DATABASE_URL", "nosuchdb://ops:s3cret@host/db")
    code, _, err = invoke(config_dir, "log")
    assert code == 2
    assert "database URL nosuchdb://ops@host/db: unknown dialect or driver" in err
    assert "s3cret" not in err


def test_a_real_provider_without_a_secret_key_is_bad_input_where_it_sends(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sending signs links with the key: `worker` and `check` refuse without it, with one
    line; reading the log does not need it."""
    monkeypatch.delenv("OUTREACH_SECRET_KEY", raising=False)
    set_toml(config_dir / "outreach.toml", "email", mode="smtp")
    code, _, err = invoke(config_dir, "worker", "--once")
    assert code == 2 and "OUTREACH_SECRET_KEY must be set" in err and "Traceback" not in err
    code, _, err = invoke(config_dir, "check")
    assert code == 2 and "environment: OUTREACH_SECRET_KEY must be set" in err
    assert invoke(config_dir, "migrate")[0] == 0
    assert invoke(config_dir, "log")[0] == 0


def test_twilio_mode_without_credentials_is_bad_input_before_anything_runs(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OUTREACH_SECRET_KEY", LONG_KEY)
    set_toml(config_dir / "outreach.toml", "sms", mode="twilio")
    assert invoke(config_dir, "migrate")[0] == 0
    code, out, err = invoke(config_dir, "worker", "--once")
    assert code == 2 and "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set" in err
    assert "planned" not in out  # refused before the planner ran
    code, _, err = invoke(config_dir, "check")
    assert code == 2 and "environment: TWILIO_ACCOUNT_SID" in err
