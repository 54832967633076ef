"""runtime.standalone_sandbox: only the stand-ins of the channels in sandbox mode are started."""

from __future__ import annotations

import smtplib
from pathlib import Path

import httpx
import pytest

from outreach.config.loader import Config
from outreach.runtime import standalone_sandbox
from tests.conftest import CONFIG_DIR


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
