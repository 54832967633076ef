"""runtime.standalone_sandbox: only the stand-ins of the channels in sandbox mode are started."""

from __future__ import annotations

import json
import smtplib
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from outreach.config.loader import Config
from outreach.runtime import standalone_sandbox
from tests.conftest import CONFIG_DIR
from tests.processes import ROOT, outreach_env


def with_modes(tmp_path: Path, sms: str, email: str) -> Config:
    config = Config(CONFIG_DIR).relocate(tmp_path)
    f = config.file
    config.file = f.model_copy(
        update={
            "sms": f.sms.model_copy(update={"mode": sms}),
            "email": f.email.model_copy(update={"mode": email}),
        }
    )
    return config


async def test_real_provider_modes_start_no_stand_in(tmp_path: Path) -> None:
    async with standalone_sandbox(with_modes(tmp_path, "twilio", "smtp")) as sandbox:
        assert (sandbox.twilio, sandbox.smtp, sandbox.sms_base_url, sandbox.smtp_port) == (
            None,
            None,
            None,
            None,
        )
    assert not (tmp_path / "sandbox").exists()  # neither wrote anything


async def test_sandbox_email_alone_starts_only_the_catcher(tmp_path: Path) -> None:
    async with standalone_sandbox(with_modes(tmp_path, "twilio", "sandbox")) as sandbox:
        assert sandbox.twilio is None and sandbox.http_url is None
        assert sandbox.smtp_port is not None
        with smtplib.SMTP("127.0.0.1", sandbox.smtp_port) as smtp:
            assert smtp.noop()[0] == 250


@pytest.mark.parametrize(("sms", "email"), [("sandbox", "smtp"), ("sandbox", "sandbox")])
async def test_sandbox_sms_serves_the_twilio_api_and_the_faults_admin(
    tmp_path: Path, sms: str, email: str
) -> None:
    async with standalone_sandbox(with_modes(tmp_path, sms, email)) as sandbox:
        assert sandbox.http_url is not None and sandbox.twilio is not None
        assert (sandbox.smtp is None) == (email == "smtp")
        async with httpx.AsyncClient() as http:
            state = (await http.get(sandbox.http_url + "/sandbox/faults")).json()
    assert set(state) == ({"twilio"} if email == "smtp" else {"twilio", "smtp"})


# What `outreach worker` and `run --once` import to send, then the stand-ins for real modes
# (in a fresh interpreter: the test suite itself imports the stand-ins).
REAL_MODES_PROBE = """
import asyncio, json, sys
from pathlib import Path
import outreach.channels.factory, outreach.cli.serve, outreach.cli.worker
import outreach.inbound.bounces, outreach.inbound.settle, outreach.channels.twilio_lookup
from outreach.config.loader import Config
from outreach.runtime import running_worker, standalone_sandbox

config = Config(sys.argv[2]).relocate(Path(sys.argv[1]))
f = config.file
config.file = f.model_copy(update={"sms": f.sms.model_copy(update={"mode": "twilio"}),
                                   "email": f.email.model_copy(update={"mode": "smtp"})})

async def main():
    async with standalone_sandbox(config) as sandbox:
        assert sandbox.smtp is None and sandbox.twilio is None

asyncio.run(main())
print(json.dumps(sorted(sys.modules)))
"""


def test_real_provider_modes_import_no_stand_in_code(tmp_path: Path) -> None:
    """A worker whose channels go to real providers never loads the SMTP catcher (aiosmtpd),
    the Twilio stand-in or the web framework that serves it."""
    done = subprocess.run(
        [sys.executable, "-c", REAL_MODES_PROBE, str(tmp_path), str(CONFIG_DIR)],
        capture_output=True,
        text=True,
        env=outreach_env(),
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    loaded = json.loads(done.stdout.splitlines()[-1])
    assert "outreach.runtime" in loaded and "twilio" in loaded  # the probe ran the real path
    stand_ins = [m for m in loaded if m.split(".")[0] in ("aiosmtpd", "fastapi", "starlette")]
    assert stand_ins + [m for m in loaded if m.startswith("outreach.sandbox")] == []
