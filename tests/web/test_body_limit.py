"""Request bodies are limited on the stream, for every route, before any parsing or signature
check: through a real uvicorn server, with chunked bodies (a generator body) and declared ones,
counting what the client sent and what reached the app."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from outreach.config.loader import Config
from outreach.db.models import InboundMessage
from outreach.runtime import Runtime
from outreach.sandbox.server import running_server
from outreach.web.app import create_app
from outreach.web.body_limit import BodyLimits
from tests.factories import add_debtor
from tests.web.test_webhooks import count, replies, sign, sms_form

SMS = "/webhooks/twilio/sms"
FORM = "application/x-www-form-urlencoded"
LIMIT = 64 * 1024  # the shipped [web.body_limits] "/webhooks/"
FIFTY_MB = 50 * 1024 * 1024


@dataclass
class Served:
    url: str
    received: list[int]  # body bytes the server handed to the app, per request


@pytest.fixture
async def served(runtime: Runtime) -> AsyncIterator[Served]:
    """The whole app on a real uvicorn server, behind a counter of the body bytes it reads."""
    app = create_app(runtime, self_url="http://127.0.0.1:1", run_worker=False)
    received: list[int] = []

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            received.append(0)
            index = len(received) - 1

            async def counted() -> Any:
                message = await receive()
                received[index] += len(message.get("body", b""))
                return message

            await app(scope, counted, send)
        else:
            await app(scope, receive, send)

    async with running_server(counting) as url:
        yield Served(url, received)


class Stream:
    """A chunked request body (httpx sends a generator with Transfer-Encoding: chunked) that
    counts how much of itself the client got to send."""

    def __init__(self, data: bytes | None = None, *, size: int = 0, chunk: int = 16 * 1024):
        self.data, self.size, self.chunk, self.sent = data, size, chunk, 0

    def __iter__(self) -> Iterator[bytes]:
        data = self.data if self.data is not None else b"a" * self.size
        for start in range(0, len(data), self.chunk):
            piece = data[start : start + self.chunk]
            self.sent += len(piece)
            yield piece


async def post(url: str, **kwargs: Any) -> httpx.Response:
    """httpx's sync client, in a thread: it reads the early answer when the server stops
    reading (the async one loses it to the connection reset that follows)."""

    def go() -> httpx.Response:
        with httpx.Client(timeout=30) as client:
            return client.post(url, **kwargs)

    return await asyncio.to_thread(go)


async def test_a_chunked_body_over_the_limit_is_refused_as_it_arrives(
    served: Served, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: all 50 MB were read and parsed, then the signature refused them (403)."""
    body = Stream(size=FIFTY_MB)
    headers = {"X-Twilio-Signature": "Zm9yZ2Vk", "Content-Type": FORM}
    with caplog.at_level(logging.INFO):
        response = await post(served.url + SMS, content=body, headers=headers)
    assert response.status_code == 413
    assert response.json() == {"detail": f"request body over {LIMIT} bytes"}
    assert body.sent < FIFTY_MB // 2  # the server stopped reading; the rest was never sent
    assert served.received[-1] < 4 * LIMIT  # the app read its limit and one more piece
    assert "bad signature" not in caplog.text  # never reached
    assert "Exception in ASGI application" not in caplog.text
    assert count(runtime, InboundMessage) == 0


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
async def test_a_signed_body_over_the_limit_is_refused_and_not_stored(
    served: Served, config: Config, runtime: Runtime, chunked: bool
) -> None:
    """Before: a signed 900 KB body was stored whole."""
    form = sms_form("x" * 900_000)
    data = urlencode(form).encode()
    headers = {"X-Twilio-Signature": sign(config, SMS, form), "Content-Type": FORM}
    content: Any = Stream(data) if chunked else data
    response = await post(served.url + SMS, content=content, headers=headers)
    assert response.status_code == 413
    assert count(runtime, InboundMessage) == 0
    if not chunked:  # declared too large: refused before the app reads a byte
        assert served.received[-1] == 0


async def test_a_chunked_body_under_the_limit_is_read_as_before(
    served: Served, config: Config, runtime: Runtime
) -> None:
    form = sms_form("HELP")
    headers = {"X-Twilio-Signature": sign(config, SMS, form), "Content-Type": FORM}
    body = Stream(urlencode(form).encode(), chunk=7)
    response = await post(served.url + SMS, content=body, headers=headers)
    assert replies(response) and count(runtime, InboundMessage) == 1


async def test_an_answer_before_the_body_ends_closes_the_connection(served: Served) -> None:
    """Refused unread (no signature): before, the server read all 50 MB to keep the
    connection alive; now it closes it and stops reading."""
    body = Stream(size=FIFTY_MB)
    response = await post(served.url + SMS, content=body, headers={"Content-Type": FORM})
    assert response.status_code == 403
    assert response.headers["connection"] == "close"
    assert body.sent < FIFTY_MB // 2


async def agen(data: bytes, chunk: int = 8192) -> AsyncIterator[bytes]:
    for start in range(0, len(data), chunk):
        yield data[start : start + chunk]


async def test_an_early_answer_to_a_declared_body_keeps_the_connection(served: Served) -> None:
    """A body of declared length within the limit is read out after an early 403: closing
    with its bytes unread would make the kernel reset the connection, and the client could
    read the reset instead of the answer."""
    response = await post(
        served.url + SMS, content=b"Body=" + b"x" * 16_000, headers={"Content-Type": FORM}
    )
    assert response.status_code == 403
    assert response.headers.get("connection") != "close"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/console/sign-in", FORM),  # FastAPI Form() fields
        ("/dispute/", FORM),  # a public page's request.form()
        ("/api/campaigns/standard/enroll", "application/json"),  # a JSON body
    ],
)
async def test_every_route_has_the_default_limit(
    client: httpx.AsyncClient,
    runtime: Runtime,
    path: str,
    content_type: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if path == "/dispute/":
        _, account_id = add_debtor(runtime.factory, runtime.clock.now())
        path = runtime.links.dispute(account_id).removeprefix(runtime.links.base_url)
    with caplog.at_level(logging.WARNING):
        response = await client.post(
            path, content=agen(b"a" * (LIMIT + 1)), headers={"Content-Type": content_type}
        )
    assert response.status_code == 413
    assert "body over 65536: refused" in caplog.text


async def test_the_limits_per_route_come_from_the_config(config: Config, runtime: Runtime) -> None:
    web = config.file.web.model_copy(
        update={"max_body_bytes": 100_000, "body_limits": {"/webhooks/twilio": 1024}}
    )
    config.file = config.file.model_copy(update={"web": web})
    app = create_app(runtime, self_url="http://127.0.0.1:1", run_worker=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as c:
        form = sms_form("x" * 2000)
        headers = {"X-Twilio-Signature": sign(config, SMS, form)}
        assert (await c.post(SMS, data=form, headers=headers)).status_code == 413
        # A page under the default: 70 KB pass the limit (the 422 is the form's own answer).
        big = {"name": "x" * 70_000, "password": "y"}
        assert (await c.post("/console/sign-in", data=big)).status_code == 422


def test_the_longest_matching_prefix_wins_on_whole_path_segments() -> None:
    limits = BodyLimits(10, (("/webhooks/twilio/", 3), ("/webhooks", 5)))
    assert limits.for_path("/webhooks/twilio/sms") == ("/webhooks/twilio/", 3)
    assert limits.for_path("/webhooks/other") == ("/webhooks", 5)
    assert limits.for_path("/webhooks") == ("/webhooks", 5)
    assert limits.for_path("/webhooksX") == ("default", 10)
