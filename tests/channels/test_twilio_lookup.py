"""TwilioLookup through the real twilio client against the sandbox on loopback: Twilio's
status and error code for a SID, None for a SID Twilio does not know, LookupFailed when
Twilio cannot be asked."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from outreach.channels.base import OutboundMessage, SendStatus
from outreach.channels.sms import TwilioSmsChannel
from outreach.channels.twilio_lookup import (
    LookupFailed,
    ProviderStatus,
    TwilioLookup,
    build_lookup,
)
from outreach.config.loader import Config
from outreach.config.settings import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN
from outreach.sandbox.twilio_api import TwilioSandboxStore
from tests.conftest import free_port

pytestmark = pytest.mark.filterwarnings("ignore:.*encode_basic_auth:DeprecationWarning")


@pytest.fixture
async def lookup(twilio_url: str) -> AsyncIterator[TwilioLookup]:
    made = TwilioLookup(SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, base_url=twilio_url, timeout=5)
    yield made
    await made.aclose()


async def _sent(twilio_url: str) -> str:
    """A message Twilio accepted, created through the real Messages API."""
    channel = TwilioSmsChannel(
        SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, from_number="+15005550006", base_url=twilio_url
    )
    try:
        result = await channel.send(
            OutboundMessage(message_id=1, channel="sms", to="+14155550123", text="Hello")
        )
    finally:
        await channel.aclose()
    assert result.status is SendStatus.SENT and result.provider_id
    return result.provider_id


async def test_the_status_twilio_holds_is_what_the_lookup_answers(
    lookup: TwilioLookup, twilio_url: str, twilio_store: TwilioSandboxStore
) -> None:
    sid = await _sent(twilio_url)
    assert await lookup.fetch(sid) == ProviderStatus(sid, "queued")
    twilio_store.messages[sid].update(
        status="undelivered", error_code=30003, error_message="Unreachable destination handset"
    )
    assert await lookup.fetch(sid) == ProviderStatus(
        sid, "undelivered", "30003", "Unreachable destination handset"
    )


async def test_a_sid_twilio_does_not_know_is_none(lookup: TwilioLookup) -> None:
    assert await lookup.fetch("SM" + "0" * 32) is None


async def test_when_twilio_cannot_be_asked_the_lookup_fails(
    twilio_url: str, twilio_store: TwilioSandboxStore
) -> None:
    sid = await _sent(twilio_url)
    wrong = TwilioLookup(SANDBOX_ACCOUNT_SID, "not-the-token", base_url=twilio_url, timeout=5)
    dead = TwilioLookup(
        SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, base_url=f"http://127.0.0.1:{free_port()}"
    )
    try:
        with pytest.raises(LookupFailed, match=r"Twilio answered 401 \(20003\)"):
            await wrong.fetch(sid)
        with pytest.raises(LookupFailed, match="ClientConnectorError"):
            await dead.fetch(sid)
    finally:
        await wrong.aclose()
        await dead.aclose()


async def test_build_lookup_uses_the_sms_channels_endpoint(config: Config, twilio_url: str) -> None:
    with pytest.raises(ValueError, match="sandbox base URL"):
        build_lookup(config)
    lookup = build_lookup(config, sms_base_url=twilio_url)
    try:
        assert await lookup.fetch("SM" + "0" * 32) is None  # reached the sandbox: a 404
    finally:
        await lookup.aclose()
