"""The root command's options: --log-format (or OUTREACH_LOG_FORMAT) picks text or JSON log
lines on stderr for every command."""

from __future__ import annotations

import json
import mailbox
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.cli.conftest import invoke

pytestmark = pytest.mark.usefixtures("restore_logging")


def not_a_dsn(tmp_path: Path) -> Path:
    """A bounce mailbox holding one plain message: `bounces process` logs a warning for it."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    box = mailbox.Maildir(tmp_path / "bounces", create=True)
    message = EmailMessage()
    message["From"] = "ann@example.com"
    message["Subject"] = "hello"
    message.set_content("not a delivery report")
    box.add(message)
    return tmp_path / "bounces"


def warnings_in(stderr: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def test_log_format_json_writes_one_object_per_line(config_dir: Path, tmp_path: Path) -> None:
    assert invoke(config_dir, "migrate")[0] == 0
    maildir = not_a_dsn(tmp_path)
    code, _, err = invoke(
        config_dir, "--log-format", "json", "bounces", "process", "--maildir", str(maildir)
    )
    assert code == 0
    [record] = warnings_in(err)
    assert (record["level"], record["logger"]) == ("WARNING", "outreach.inbound.bounces")
    assert "is not a DSN" in record["message"]


def test_the_environment_variable_picks_the_format_too(
    config_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert invoke(config_dir, "migrate")[0] == 0
    maildir = not_a_dsn(tmp_path)
    monkeypatch.setenv("OUTREACH_LOG_FORMAT", "json")
    code, _, err = invoke(config_dir, "bounces", "process", "--maildir", str(maildir))
    assert code == 0 and len(warnings_in(err)) == 1
    monkeypatch.setenv("OUTREACH_LOG_FORMAT", "text")
    maildir = not_a_dsn(tmp_path / "again")
    code, _, err = invoke(config_dir, "bounces", "process", "--maildir", str(maildir))
    assert code == 0 and warnings_in(err) == [] and "WARNING outreach.inbound.bounces:" in err


def test_an_unknown_log_format_exits_2_naming_the_choices(config_dir: Path) -> None:
    code, _, err = invoke(config_dir, "--log-format", "xml", "check")
    assert code == 2
    assert "'xml' is not one of 'text', 'json'" in err
