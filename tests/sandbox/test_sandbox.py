"""The sandbox stand-ins: the Twilio Messages endpoint, the SMTP catcher and the embedded server."""

from __future__ import annotations

import json
import re
import smtplib
import socket
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from outreach.config.settings import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN
from outreach.sandbox.server import running_server
from outreach.sandbox.smtp_catcher import SmtpCatcher
from outreach.sandbox.twilio_api import (
    REQUESTS_FILE,
    TwilioSandboxStore,
    sms_segments,
    twilio_sandbox_router,
)

MESSAGES = f"/2010-04-01/Accounts/{SANDBOX_ACCOUNT_SID}/Messages.json"
AUTH = (SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN)


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("[" * 80, 1),  # extension characters count two septets
        ("€" * 81, 2),
        ("é" * 160, 1),  # in the GSM basic set
        ("✓" * 70, 1),  # anything else: UCS-2
        ("✓" * 71, 2),
        ("a" * 133 + "’", 2),  # one curly quote makes the whole message UCS-2 (134 > 70)
        ("a" * 134 + "’", 3),
        ("😀" * 35, 1),  # an emoji is two UTF-16 units
        ("😀" * 36, 2),
    ],
)
def test_sms_segments(body: str, segments: int) -> None:
    assert sms_segments(body) == segments


@pytest.fixture
def store(tmp_path: Path) -> TwilioSandboxStore:
    return TwilioSandboxStore(tmp_path / "sandbox")


@pytest.fixture
async def http(store: TwilioSandboxStore) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(twilio_sandbox_router(store))
    async with running_server(app) as url, httpx.AsyncClient(base_url=url, auth=AUTH) as client:
        yield client


async def test_create_returns_a_twilio_message_resource(
    http: httpx.AsyncClient, store: TwilioSandboxStore
) -> None:
    form = {"To": "+14155550123", "From": "+15005550006", "Body": "Hi ✓", "StatusCallback": "x"}
    response = await http.post(MESSAGES, data=form)

    assert response.status_code == 201
    body = response.json()
    assert re.fullmatch(r"SM[0-9a-f]{32}", body["sid"])
    assert body["status"] == "queued"
    assert body["num_segments"] == "1"
    assert body["to"] == "+14155550123" and body["from"] == "+15005550006"
    assert body["account_sid"] == SANDBOX_ACCOUNT_SID
    assert body["uri"] == MESSAGES.removesuffix(".json") + f"/{body['sid']}.json"
    assert parsedate_to_datetime(body["date_created"]).tzinfo is not None

    fetched = await http.get(body["uri"])
    assert fetched.status_code == 200
    assert fetched.json() == body

    lines = (store.dir / REQUESTS_FILE).read_text().splitlines()
    assert [json.loads(line) for line in lines] == store.requests
    [entry] = store.requests
    assert entry["method"] == "POST" and entry["path"] == MESSAGES
    assert entry["form"] == form and entry["sid"] == body["sid"]
    assert "authorization" not in lines[0].lower()


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"From": "+15005550006", "Body": "x"}, 21604),
        ({"To": "+15005550001", "From": "+15005550006", "Body": "x"}, 21211),
        ({"To": "+15005550009", "From": "+15005550006", "Body": "x"}, 21614),
        ({"To": "+15005550010", "From": "+15005550006", "Body": "x"}, 21610),
        ({"To": "415-555-0123", "From": "+15005550006", "Body": "x"}, 21211),
        ({"To": "+14155550123", "Body": "x"}, 21603),
        ({"To": "+14155550123", "From": "+15005550006"}, 21602),
        ({"To": "+14155550123", "From": "+15005550006", "Body": "x" * 1601}, 21617),
    ],
)
async def test_twilio_style_errors(
    http: httpx.AsyncClient, store: TwilioSandboxStore, form: dict[str, str], code: int
) -> None:
    response = await http.post(MESSAGES, data=form)

    assert response.status_code == 400
    assert response.json() == {
        "code": code,
        "message": response.json()["message"],
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": 400,
    }
    assert store.requests == []


async def test_credentials_and_account_are_checked(http: httpx.AsyncClient) -> None:
    form = {"To": "+14155550123", "From": "+15005550006", "Body": "x"}
    wrong = await http.post(MESSAGES, data=form, auth=(SANDBOX_ACCOUNT_SID, "nope"))
    async with httpx.AsyncClient(base_url=http.base_url) as anonymous:
        missing = await anonymous.post(MESSAGES, data=form)
    other = await http.post(MESSAGES.replace(SANDBOX_ACCOUNT_SID, "AC" + "1" * 32), data=form)

    assert wrong.status_code == missing.status_code == 401
    assert wrong.json()["code"] == 20003
    assert other.status_code == 404
    assert (await http.get(MESSAGES.removesuffix(".json") + "/SMnope.json")).status_code == 404


async def test_injected_faults_are_served_in_order(
    http: httpx.AsyncClient, store: TwilioSandboxStore
) -> None:
    store.fail_next(2, status=503)
    form = {"To": "+14155550123", "From": "+15005550006", "Body": "x"}
    statuses = [(await http.post(MESSAGES, data=form)).status_code for _ in range(3)]

    assert statuses == [503, 503, 201]
    assert len(store.requests) == 1


async def test_running_server_stops_listening_on_exit() -> None:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    async with running_server(app) as url:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        async with httpx.AsyncClient() as client:
            assert (await client.get(url + "/ping")).json() == {"pong": "yes"}

    port = int(url.rsplit(":", 1)[1])
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass


async def test_running_server_reports_a_port_in_use() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(OSError):
            async with running_server(FastAPI(), port=busy.getsockname()[1]):
                pass


def test_smtp_catcher_binds_a_free_port_and_keeps_messages(tmp_path: Path) -> None:
    catcher = SmtpCatcher(tmp_path / "maildir")
    with catcher:
        assert catcher.port > 0
        for i in range(3):
            msg = EmailMessage()
            msg["From"], msg["To"], msg["Subject"] = "a@example.test", "b@example.test", f"n{i}"
            msg.set_content(f"body {i}")
            with smtplib.SMTP(catcher.host, catcher.port) as smtp:
                smtp.send_message(msg)
        got = catcher.messages()
        port = catcher.port

    assert [m["Subject"] for m in got] == ["n0", "n1", "n2"]
    assert all(isinstance(m, EmailMessage) for m in got)
    assert got[0].get_content() == "body 0\n"
    assert got[0]["X-RcptTo"] == "b@example.test"
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass
