"""build_channels: where each mode sends SMS, with the real twilio client on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from outreach.channels.base import OutboundMessage, SendStatus
from outreach.channels.factory import build_channels
from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.config.settings import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN
from outreach.sandbox.admin import SANDBOX_TWILIO_PREFIX, install_sandbox
from outreach.sandbox.server import running_server
from outreach.sandbox.twilio_api import TwilioSandboxStore
from tests.conftest import CONFIG_DIR

pytestmark = pytest.mark.filterwarnings("ignore:.*encode_basic_auth:DeprecationWarning")

SMS = OutboundMessage(message_id=1, channel="sms", to="+14155550123", text="Hi. Reply STOP.")


@pytest.fixture
async def stand_in(tmp_path: Path) -> AsyncIterator[tuple[TwilioSandboxStore, str]]:
    """A Twilio-compatible API on loopback, as a gateway or `outreach sandbox` would be."""
    store = TwilioSandboxStore(tmp_path / "stand-in")
    app = FastAPI()
    install_sandbox(app, store, None)
    async with running_server(app) as url:
        yield store, url + SANDBOX_TWILIO_PREFIX


def with_sms(config: Config, **sms: object) -> Config:
    config.file = config.file.model_copy(update={"sms": config.file.sms.model_copy(update=sms)})
    return config


async def test_twilio_mode_with_base_url_sends_through_that_api(
    tmp_path: Path, stand_in: tuple[TwilioSandboxStore, str], clock: SimulatedClock
) -> None:
    store, url = stand_in
    config = with_sms(Config(CONFIG_DIR).relocate(tmp_path), mode="twilio", base_url=url)
    config.secrets.twilio_account_sid = SANDBOX_ACCOUNT_SID
    config.secrets.twilio_auth_token = SecretStr(SANDBOX_AUTH_TOKEN)
    channels = build_channels(config, clock=clock)
    try:
        result = await channels["sms"].send(SMS)
    finally:
        for channel in channels.values():
            await channel.aclose()
    assert result.status == SendStatus.SENT
    [request] = store.requests
    assert request["sid"] == result.provider_id
    assert request["form"]["To"] == SMS.to and request["form"]["Body"] == SMS.text


async def test_sandbox_mode_ignores_base_url_and_uses_the_sandbox_it_is_given(
    tmp_path: Path, stand_in: tuple[TwilioSandboxStore, str], clock: SimulatedClock
) -> None:
    store, url = stand_in
    config = with_sms(
        Config(CONFIG_DIR).relocate(tmp_path),
        mode="sandbox",
        base_url="http://127.0.0.1:9/not-here",
    )
    channels = build_channels(config, clock=clock, sms_base_url=url)
    try:
        result = await channels["sms"].send(SMS)
    finally:
        for channel in channels.values():
            await channel.aclose()
    assert result.status == SendStatus.SENT and len(store.requests) == 1
