"""`outreach --help` and `outreach compliance explain` start at once (issue 11): neither
loads the web framework, the channels' clients, the PDF renderer, the SMTP catcher, the
database layer or the scheduler. Checked in a fresh interpreter, the way a shell runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine

from tests.conftest import CONFIG_DIR
from tests.processes import outreach_env

HEAVY = (
    "weasyprint",
    "fastapi",
    "starlette",
    "uvicorn",
    "twilio",
    "aiohttp",
    "aiosmtpd",
    "aiosmtplib",
    "alembic",
    "apscheduler",
    "sqlalchemy",
    "jinja2",
    "pydantic_settings",
    "outreach.sandbox",
    "outreach.runtime",
)

# Runs the CLI in-process, then reports which heavy packages it imported (SystemExit is how
# click ends a command).
PROBE = """
import json, sys
from outreach.cli.main import main
try:
    main(sys.argv[1:], prog_name="outreach")
except SystemExit as exit:
    code = exit.code
loaded = sorted({m.split(".")[0] if not m.startswith("outreach.") else ".".join(m.split(".")[:2])
                 for m in sys.modules})
sys.stderr.write("\\nLOADED " + json.dumps(loaded) + "\\n")
sys.exit(code)
"""


def _loaded(*args: str, stdin: str = "", **env: str) -> tuple[set[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=outreach_env(OUTREACH_CONFIG_DIR=str(CONFIG_DIR), **env),
        timeout=60,
        check=True,
    )
    line = done.stderr.rsplit("LOADED ", 1)[1]
    return set(json.loads(line)), done.stdout


def _heavy(loaded: set[str]) -> list[str]:
    return [m for m in HEAVY if m in loaded]


def test_help_loads_none_of_the_heavy_packages() -> None:
    loaded, out = _loaded("--help")
    assert "compliance" in out and "worker" in out  # every command is still listed
    assert _heavy(loaded) == []


def test_compliance_explain_loads_none_of_the_heavy_packages(tmp_path: Path) -> None:
    scenario = {
        "now": "2026-11-24T06:00:00-05:00",
        "channel": "sms",
        "to": "+12155550143",
        "debtor": {"state": "PA", "zip": "19103", "phones": ["+12155550143"]},
    }
    loaded, out = _loaded("compliance", "explain", stdin=json.dumps(scenario))
    assert json.loads(out)["verdict"] == "defer"
    assert _heavy(loaded) == []
    assert "zipcodes" not in loaded  # the shipped ZIP table, not the package's database


def test_a_command_that_reads_the_database_loads_no_web_framework_channel_or_stand_in(
    engine: Engine, db_url: str
) -> None:
    loaded, out = _loaded("log", "--json", OUTREACH_DATABASE_URL=db_url)
    assert out == ""  # an empty log, read from the database
    assert "sqlalchemy" in loaded
    # The database layer and the migrations' revision check, and nothing that sends or serves.
    needed = {"sqlalchemy", "alembic", "jinja2", "pydantic_settings", "outreach.runtime"}
    assert [m for m in _heavy(loaded) if m not in needed] == []
