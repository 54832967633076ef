"""The faults admin over HTTP, with the real twilio client and aiosmtplib on the receiving end:
what an operator rehearsing an outage (or a multi-process test) relies on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import httpx
import pytest
from fastapi import FastAPI
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from outreach.config.settings import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN
from outreach.sandbox.admin import FAULTS_PREFIX, SANDBOX_TWILIO_PREFIX, install_sandbox
from outreach.sandbox.control import SandboxControl, SandboxError
from outreach.sandbox.server import running_server
from outreach.sandbox.smtp_catcher import SmtpCatcher
from outreach.sandbox.twilio_api import TwilioSandboxStore

pytestmark = pytest.mark.filterwarnings("ignore:.*encode_basic_auth:DeprecationWarning")

MESSAGES = f"{SANDBOX_TWILIO_PREFIX}/2010-04-01/Accounts/{SANDBOX_ACCOUNT_SID}/Messages.json"


@dataclass
class Stand:
    url: str
    store: TwilioSandboxStore
    catcher: SmtpCatcher
    twilio: Client
    control: SandboxControl

    async def send_sms(self, body: str = "hello") -> str:
        created = await self.twilio.messages.create_async(
            to="+14155550123", from_="+15005550006", body=body
        )
        return str(created.sid)

    async def send_mail(self, timeout: float = 5) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "a@example.test", "b@example.test", "hi"
        msg.set_content("body")
        await aiosmtplib.send(
            msg, hostname=self.catcher.host, port=self.catcher.port, timeout=timeout
        )

    async def admin(self, method: str, *args: object, **kwargs: object) -> dict[str, object]:
        # The control client is synchronous; the stand-ins serve on this loop.
        result: dict[str, object] = await asyncio.to_thread(
            getattr(self.control, method), *args, **kwargs
        )
        return result


@pytest.fixture
async def stand(tmp_path: Path) -> AsyncIterator[Stand]:
    store = TwilioSandboxStore(tmp_path / "sandbox")
    app = FastAPI()
    with SmtpCatcher(tmp_path / "sandbox" / "mail") as catcher:
        install_sandbox(app, store, catcher.faults)
        async with running_server(app) as url:
            http = AsyncTwilioHttpClient()
            client = Client(SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, http_client=http)
            client.api.base_url = url + SANDBOX_TWILIO_PREFIX
            with SandboxControl(url) as control:
                yield Stand(url, store, catcher, client, control)
            await http.close()


async def test_fail_next_refuses_creates_in_the_shape_the_twilio_client_parses(
    stand: Stand,
) -> None:
    await stand.admin("fail_next", "twilio", 2, status=429, code=20429, message="Too Many")
    for _ in range(2):
        with pytest.raises(TwilioRestException) as refused:
            await stand.send_sms()
        assert (refused.value.status, refused.value.code) == (429, 20429)
        assert "Too Many" in refused.value.msg
    await stand.send_sms()
    state = await stand.admin("state", "twilio")
    assert (state["accepted"], state["refused"]) == (1, 2)
    assert len(stand.store.requests) == 1


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_is_sent_in_whole_seconds(stand: Stand, status: int) -> None:
    await stand.admin("fail_next", "twilio", 2, status=status, retry_after=1.2)
    auth = (SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN)
    form = {"To": "+14155550123", "From": "+15005550006", "Body": "x"}
    async with httpx.AsyncClient(base_url=stand.url, auth=auth) as http:
        response = await http.post(MESSAGES, data=form)
    assert response.status_code == status
    assert response.headers["Retry-After"] == "2"
    assert response.json()["code"] == status
    with pytest.raises(TwilioRestException) as refused:  # the client still reads the body
        await stand.send_sms()
    assert refused.value.status == status


async def test_a_storm_refuses_every_create_until_it_ends_and_fetches_still_answer(
    stand: Stand,
) -> None:
    sid = await stand.send_sms()
    state = await stand.admin("storm", "twilio", 0.6)
    assert state["storm"]["status"] == 500 and state["storm"]["seconds_left"] > 0.5
    for _ in range(3):
        with pytest.raises(TwilioRestException) as refused:
            await stand.send_sms()
        assert refused.value.status == 500
    fetched = await stand.twilio.messages(sid).fetch_async()  # GET Messages/{sid}.json
    assert fetched.sid == sid and fetched.status == "queued"
    await asyncio.sleep(0.7)
    await stand.send_sms()
    assert len(stand.store.requests) == 2


async def test_delay_next_accepts_but_answers_late(stand: Stand) -> None:
    await stand.admin("delay_next", "twilio", 1, seconds=0.4)
    started = time.monotonic()
    await stand.send_sms()
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    await stand.send_sms()
    assert time.monotonic() - started < 0.4


async def test_smtp_fail_next_answers_data_with_the_code_and_stores_nothing(
    stand: Stand,
) -> None:
    await stand.admin("fail_next", "smtp", 1, code=451)
    await stand.admin("fail_next", "smtp", 1, code=550, message="5.7.1 Not today")
    with pytest.raises(aiosmtplib.SMTPDataError) as first:
        await stand.send_mail()
    with pytest.raises(aiosmtplib.SMTPDataError) as second:
        await stand.send_mail()
    assert first.value.code == 451 and first.value.message.startswith("4.3.0")
    assert (second.value.code, second.value.message) == (550, "5.7.1 Not today")
    assert stand.catcher.messages() == []
    await stand.send_mail()
    assert len(stand.catcher.messages()) == 1
    state = await stand.admin("state", "smtp")
    assert (state["accepted"], state["refused"]) == (1, 2)


async def test_smtp_delay_stores_the_message_but_the_answer_comes_too_late(
    stand: Stand,
) -> None:
    await stand.admin("delay_next", "smtp", 1, seconds=1.5)
    with pytest.raises(aiosmtplib.SMTPTimeoutError):
        await stand.send_mail(timeout=0.5)
    assert len(stand.catcher.messages()) == 1  # delivered: a resend would be a duplicate


async def test_smtp_storm_and_clear(stand: Stand) -> None:
    await stand.admin("storm", "smtp", 60, code=421)
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await stand.send_mail()
    assert refused.value.code == 421
    state = await stand.admin("clear")
    assert state["smtp"]["storm"] is None and state["twilio"]["pending_failures"] == []
    await stand.send_mail()
    assert len(stand.catcher.messages()) == 1


async def test_bad_bodies_are_refused_with_a_reason(stand: Stand) -> None:
    with pytest.raises(SandboxError) as bad:
        await stand.admin("fail_next", "twilio", 1, status=200)
    assert bad.value.status == 422 and "status" in str(bad.value)
    async with httpx.AsyncClient(base_url=stand.url) as http:
        unknown = await http.post(f"{FAULTS_PREFIX}/twilio/fail-next", json={"nn": 1})
        zero = await http.post(f"{FAULTS_PREFIX}/smtp/delay-next", json={"seconds": 0})
    assert unknown.status_code == zero.status_code == 422
    assert (await stand.admin("state"))["twilio"]["pending_failures"] == []


async def test_a_stand_in_that_does_not_run_here_is_404(tmp_path: Path) -> None:
    app = FastAPI()
    install_sandbox(app, TwilioSandboxStore(tmp_path), None)
    async with running_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        response = await http.post(f"{FAULTS_PREFIX}/smtp/fail-next", json={"code": 451})
        assert response.status_code == 404
        assert response.json() == {"detail": "no smtp stand-in runs here"}
        assert set((await http.get(FAULTS_PREFIX)).json()) == {"twilio"}
