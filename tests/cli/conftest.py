"""The CLI tests' configuration folder (a copy of the shipped one, on the test database) and
a way to run `outreach` against it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from outreach.cli.main import main
from tests.conftest import CONFIG_DIR


@pytest.fixture
def config_dir(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, target)
    monkeypatch.setenv("OUTREACH_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    return target


def invoke(config_dir: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--config-dir", str(config_dir), *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr
