"""TwilioSmsChannel through the real twilio client against the sandbox on loopback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from outreach.channels.base import OutboundMessage, SendStatus
from outreach.channels.sms import TwilioSmsChannel, retry_after_seconds
from outreach.config.settings import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN
from outreach.sandbox.server import running_server
from outreach.sandbox.twilio_api import TwilioSandboxStore
from tests.conftest import free_port

# twilio 9.13 passes `auth=` to aiohttp 3.14, which deprecates it (removal planned for aiohttp 4).
pytestmark = pytest.mark.filterwarnings("ignore:.*encode_basic_auth:DeprecationWarning")

FROM = "+15005550006"
TO = "+14155550123"

ChannelFactory = Callable[..., TwilioSmsChannel]


def sms(
    to: str = TO, text: str = "Hello from outreach. Reply STOP to opt out.", **kw: Any
) -> OutboundMessage:
    return OutboundMessage(message_id=7, channel="sms", to=to, text=text, **kw)


@pytest.fixture
async def make_channel(twilio_url: str) -> AsyncIterator[ChannelFactory]:
    made: list[TwilioSmsChannel] = []

    def make(**overrides: object) -> TwilioSmsChannel:
        kwargs: dict[str, object] = {
            "from_number": FROM,
            "base_url": twilio_url,
            "timeout": 5.0,
        }
        kwargs.update(overrides)
        sid = kwargs.pop("account_sid", SANDBOX_ACCOUNT_SID)
        token = kwargs.pop("auth_token", SANDBOX_AUTH_TOKEN)
        channel = TwilioSmsChannel(sid, token, **kwargs)  # type: ignore[arg-type]
        made.append(channel)
        return channel

    yield make
    for channel in made:
        await channel.aclose()


async def test_send_success_is_recorded(
    make_channel: ChannelFactory, twilio_store: TwilioSandboxStore
) -> None:
    channel = make_channel()
    result = await channel.send(sms(status_callback="https://outreach.test/webhooks/status"))

    assert result.status is SendStatus.SENT
    assert result.provider_id is not None and result.provider_id.startswith("SM")
    assert len(result.provider_id) == 34
    assert result.detail == {"segments": "1", "status": "queued"}
    [request] = twilio_store.requests
    assert request["sid"] == result.provider_id
    assert request["form"]["To"] == TO
    assert request["form"]["From"] == FROM
    assert request["form"]["Body"] == "Hello from outreach. Reply STOP to opt out."
    assert request["form"]["StatusCallback"] == "https://outreach.test/webhooks/status"
    assert "MessagingServiceSid" not in request["form"]


async def test_messaging_service_sender(
    make_channel: ChannelFactory, twilio_store: TwilioSandboxStore
) -> None:
    service = "MG" + "1" * 32
    channel = make_channel(from_number=None, messaging_service_sid=service)
    result = await channel.send(sms(text="Ünïcode ✓ " * 10))

    assert result.status is SendStatus.SENT
    assert result.detail == {"segments": "2", "status": "accepted"}
    [request] = twilio_store.requests
    assert request["form"]["MessagingServiceSid"] == service
    assert "From" not in request["form"]
    assert "StatusCallback" not in request["form"]


@pytest.mark.parametrize(
    ("to", "code", "opted_out"),
    [
        ("+15005550001", "21211", False),  # invalid 'To'
        ("+15005550009", "21614", False),  # not SMS-capable
        ("+15005550010", "21610", True),  # unsubscribed recipient
        ("4155550123", "21211", False),  # not E.164
    ],
)
async def test_provider_rejections_are_permanent(
    make_channel: ChannelFactory,
    twilio_store: TwilioSandboxStore,
    to: str,
    code: str,
    opted_out: bool,
) -> None:
    result = await make_channel().send(sms(to=to))

    assert result.status is SendStatus.PERMANENT
    assert result.error_code == code
    assert result.opted_out is opted_out
    assert result.error_message and "Unable to create record" not in result.error_message
    assert twilio_store.requests == []


async def test_503_is_retryable_after_one_attempt(
    make_channel: ChannelFactory, twilio_store: TwilioSandboxStore
) -> None:
    twilio_store.fail_next(2, status=503)
    result = await make_channel().send(sms())

    assert result.status is SendStatus.RETRYABLE
    assert result.rate_limited is False  # a provider in trouble: counts against its health
    assert twilio_store.pending_faults == 1  # the engine retries later, the channel tries once
    assert twilio_store.requests == []


async def test_429_is_retryable_and_carries_retry_after(tmp_path: Path) -> None:
    """Twilio's client drops response headers from its exception; the channel still reads
    Retry-After, so the engine can hold every worker off that sender."""
    app = FastAPI()

    @app.post("/2010-04-01/Accounts/{sid}/Messages.json")
    async def too_many(sid: str) -> JSONResponse:
        body = {"code": 20429, "message": "Too Many Requests", "status": 429}
        return JSONResponse(body, status_code=429, headers={"Retry-After": "10"})

    async with running_server(app) as url:
        channel = TwilioSmsChannel(
            SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, from_number=FROM, base_url=url
        )
        try:
            result = await channel.send(sms())
        finally:
            await channel.aclose()

    assert result.status is SendStatus.RETRYABLE
    assert result.error_code == "20429"
    assert result.rate_limited is True
    assert result.retry_after == 10.0


@pytest.mark.parametrize(
    ("header", "low", "high"),
    [("7", 7.0, 7.0), ("0", 0.0, 0.0), ("soon", None, None)],
)
def test_retry_after_forms(header: str, low: float | None, high: float | None) -> None:
    value = retry_after_seconds(header)
    if low is None:
        assert value is None
    else:
        assert value is not None and low <= value <= (high or low)


def test_retry_after_as_an_http_date() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    value = retry_after_seconds(later)
    assert value is not None and 25 <= value <= 31


async def test_wrong_credentials_are_permanent(
    make_channel: ChannelFactory, twilio_store: TwilioSandboxStore
) -> None:
    result = await make_channel(auth_token="not-the-token").send(sms())

    assert result.status is SendStatus.PERMANENT
    assert result.error_code == "20003"
    assert twilio_store.requests == []


async def test_nothing_listening_is_retryable(make_channel: ChannelFactory) -> None:
    channel = make_channel(base_url=f"http://127.0.0.1:{free_port()}")
    result = await channel.send(sms())

    assert result.status is SendStatus.RETRYABLE
    assert result.error_code == "ClientConnectorError"


async def test_timeout_after_the_request_left_is_unknown_and_not_retried(
    make_channel: ChannelFactory, twilio_store: TwilioSandboxStore
) -> None:
    twilio_store.delay_next(1, seconds=0.5)
    result = await make_channel(timeout=0.1).send(sms())

    assert result.status is SendStatus.UNKNOWN
    assert result.error_code == "timeout"
    assert len(twilio_store.requests) == 1  # the sandbox has it; we must not send it again


async def test_connection_dropped_after_request_is_unknown(make_channel: ChannelFactory) -> None:
    connections = 0

    async def read_request_then_hang_up(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(read_request_then_hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        result = await make_channel(base_url=f"http://127.0.0.1:{port}").send(sms())

    assert result.status is SendStatus.UNKNOWN
    assert result.error_code == "ServerDisconnectedError"
    assert connections == 1


async def test_logs_never_carry_the_full_number(
    make_channel: ChannelFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        await make_channel().send(sms())
    assert TO not in caplog.text
    assert "0123" in caplog.text


async def test_aclose_then_send_again(make_channel: ChannelFactory) -> None:
    channel = make_channel()
    assert (await channel.send(sms())).status is SendStatus.SENT
    await channel.aclose()
    assert (await channel.send(sms())).status is SendStatus.SENT


def test_constructor_needs_a_sender() -> None:
    with pytest.raises(ValueError, match="from_number or messaging_service_sid"):
        TwilioSmsChannel(SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, from_number=None)


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_server_errors_that_may_follow_acceptance_are_unknown_and_not_retried(
    make_channel: ChannelFactory, twilio_store: TwilioSandboxStore, status: int
) -> None:
    twilio_store.fail_next(2, status=status)
    result = await make_channel().send(sms())

    assert result.status is SendStatus.UNKNOWN
    assert result.error_code == str(status)
    assert twilio_store.pending_faults == 1  # one attempt only: a retry could send it twice
