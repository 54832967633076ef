"""`outreach serve` and `worker` as real processes: what sending needs from the environment,
missing or unfit, stops them with exit 2 and one line naming the variable (no traceback);
sandbox mode on the shipped credentials starts with a warning that they are public."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from outreach.config.settings import DEV_SECRET_KEY
from tests.cli.conftest import invoke
from tests.config.test_senders import SECRETS
from tests.conftest import free_port
from tests.processes import outreach_command, outreach_env, run_outreach, set_toml

KEY = "k" * 32
REAL = {"OUTREACH_SECRET_KEY": KEY, "TWILIO_ACCOUNT_SID": "AC" + "1" * 32}
CASES = [
    ("smtp", {}, "Error: OUTREACH_SECRET_KEY must be set when a real provider is configured"),
    ("smtp", {"OUTREACH_SECRET_KEY": "x"}, "Error: OUTREACH_SECRET_KEY is too short (1 of"),
    ("smtp", {"OUTREACH_SECRET_KEY": DEV_SECRET_KEY}, "Error: OUTREACH_SECRET_KEY is the dev"),
    ("twilio", REAL, "Error: TWILIO_AUTH_TOKEN must be set for sms mode 'twilio'"),
    (
        "smtp",
        {"OUTREACH_SECRET_KEY": KEY, "OUTREACH_SMTP_USERNAME": "outreach"},
        "Error: OUTREACH_SMTP_PASSWORD must be set with OUTREACH_SMTP_USERNAME",
    ),
    (
        "smtp",
        {"OUTREACH_SECRET_KEY": KEY, "OUTREACH_PUBLIC_URL": "http://collect.example.com"},
        "Error: public_url (OUTREACH_PUBLIC_URL or outreach.toml): http://collect.example.com"
        " is plain http, with email mode 'smtp'",
    ),
]


def env_with(db_url: str, given: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in outreach_env(OUTREACH_DATABASE_URL=db_url).items() if k not in SECRETS}
    return {**env, **given}


def configure(config_dir: Path, mode: str) -> None:
    set_toml(config_dir / "outreach.toml", "sms" if mode == "twilio" else "email", mode=mode)


@pytest.mark.parametrize(("mode", "given", "line"), CASES[:2])
def test_what_serve_lacks_is_one_line_and_exit_2(
    config_dir: Path, db_url: str, mode: str, given: dict[str, str], line: str
) -> None:
    """A real process: a traceback would show here as it does to an operator."""
    configure(config_dir, mode)
    port = str(free_port())
    done = run_outreach(
        config_dir, "serve", "--port", port, env=env_with(db_url, given), timeout=30
    )
    assert done.returncode == 2, done.stderr
    [only] = done.stderr.splitlines()
    assert only.startswith(line)
    assert done.stdout == ""


@pytest.mark.parametrize("command", [["worker", "--once"], ["run", "--once"]])
@pytest.mark.parametrize(("mode", "given", "line"), CASES)
def test_what_the_other_senders_lack_is_one_line_and_exit_2(
    config_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
    mode: str,
    given: dict[str, str],
    line: str,
) -> None:
    configure(config_dir, mode)
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
    for name, value in given.items():
        monkeypatch.setenv(name, value)
    code, out, err = invoke(config_dir, *command)
    assert code == 2, err
    [only] = err.splitlines()
    assert only.startswith(line)
    assert out == ""


def test_worker_in_sandbox_mode_warns_that_the_shipped_credentials_are_public(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
    assert invoke(config_dir, "migrate")[0] == 0
    code, _, err = invoke(config_dir, "worker", "--once")
    assert code == 0, err
    warning = "WARNING outreach.cli: running with the OUTREACH_SECRET_KEY and TWILIO_AUTH_TOKEN"
    assert warning + " shipped for the sandbox, which are public" in err
    monkeypatch.setenv("OUTREACH_SECRET_KEY", KEY)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "f" * 32)
    code, _, err = invoke(config_dir, "worker", "--once")
    assert code == 0 and "shipped for the sandbox" not in err


def test_serve_in_sandbox_mode_warns_at_start_up(config_dir: Path, db_url: str) -> None:
    assert run_outreach(config_dir, "migrate", env=env_with(db_url, {})).returncode == 0
    server = subprocess.Popen(
        outreach_command(config_dir, "serve", "--port", str(free_port()), "--no-worker"),
        env=env_with(db_url, {"OUTREACH_SECRET_KEY": KEY}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        first = server.stderr.readline()  # before uvicorn's "Started server process"
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "running with the TWILIO_AUTH_TOKEN shipped for the sandbox, which is public" in first
