"""No request can hold the event loop: the served app (uvicorn, access log on, our logging
configured) takes 64 KB requests from an anonymous client (a long path, a long query, an
unsigned webhook) while a task on the server's loop measures how late its 10 ms sleeps
wake up. Each line logged for them is masked on that loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from outreach.masking import configure_logging
from outreach.runtime import Runtime
from outreach.sandbox.server import running_server
from outreach.web.access_log import ACCESS_LOGGER
from outreach.web.app import create_app

KB = 1024
MAX_HOLD = 0.1  # seconds


@pytest.fixture
def stderr_log(restore_logging: None, capsys: pytest.CaptureFixture[str]) -> Callable[[], str]:
    capsys.readouterr()
    return lambda: capsys.readouterr().err


@pytest.fixture
def access_logger() -> Iterator[None]:
    """The embedded server changes the process-wide access logger's level and propagation."""
    access = logging.getLogger(ACCESS_LOGGER)
    saved = (access.level, access.propagate)
    yield
    access.setLevel(saved[0])
    access.propagate = saved[1]


def anonymous_requests(base: str, pay_path: str) -> list[int]:
    """From another thread, as a client on the network would (httpx caps URLs at 64 KB)."""
    with httpx.Client(base_url=base, timeout=30) as client:
        return [
            client.get("/" + "1a" * 32_000).status_code,  # a 64 KB path
            client.get("/healthz?" + "a@" * 32_000).status_code,  # a 64 KB query
            # a forged webhook: 48 KB of query, refused before the check (a small body: the 414
            # closes the connection, and a client still sending would read a reset)
            client.post(
                "/webhooks/twilio/sms?q=" + "1a" * (24 * KB),
                content=b"Body=STOP",
                headers={
                    "X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl",
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            ).status_code,
            client.get(f"{pay_path}?utm_source=sms").status_code,
        ]


def warm_up(base: str) -> None:
    """FastAPI builds its route tables on the first request and its 404 fallbacks on the
    first unmatched one (~150 ms, once per process): not what is measured here."""
    with httpx.Client(base_url=base, timeout=30) as client:
        client.get("/healthz")
        client.get("/nothing-here")


async def test_no_64_kb_request_holds_the_loop_for_100_ms(
    runtime: Runtime, stderr_log: Callable[[], str], access_logger: None
) -> None:
    configure_logging(logging.INFO, "text")
    app = create_app(runtime, self_url="http://127.0.0.1:1", run_worker=False)
    pay_path = urlsplit(runtime.links.pay(1)).path
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    held: list[float] = []

    async def watch() -> None:
        while not stop.is_set():
            started = loop.time()
            await asyncio.sleep(0.01)
            held.append(loop.time() - started - 0.01)

    async with running_server(app, log_level="info", access_log=True) as base:
        await asyncio.to_thread(warm_up, base)
        watcher = asyncio.create_task(watch())
        await asyncio.sleep(0.05)
        statuses = await asyncio.to_thread(anonymous_requests, base, pay_path)
        stop.set()
        await watcher
    out = stderr_log()
    assert statuses == [404, 200, 414, 404]
    assert max(held) < MAX_HOLD, f"the loop was held {max(held) * 1000:.0f} ms"
    assert "query over 2048 characters: refused" in out  # before the signature is read
    assert 'characters dropped] HTTP/1.1" 404' in out  # the 64 KB path's access line
    # the real access line of a payment link: its token masked, its query dropped
    prefix, token = pay_path.rsplit("/", 1)
    assert f'"GET {prefix}/{"*" * (len(token) - 4)}{token[-4:]}?… HTTP/1.1" 404' in out
    assert token not in out
