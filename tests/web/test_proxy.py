"""X-Forwarded-For is believed only with `web.trust_proxy`, from the proxy's addresses: through a
real uvicorn server set up by the function `outreach serve` uses, a client rotating the header
neither escapes the sign-in limit nor writes fake addresses into the audit log."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import Engine, select

from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.casework import AuditEvent
from outreach.sandbox.server import running_server
from outreach.web.proxy import proxy_options
from tests.console_helpers import PASSWORD, add_user, csrf_of, make_app


async def attempt(client: httpx.AsyncClient, password: str, forwarded_for: str) -> int:
    form = await client.get("/console/sign-in")
    response = await client.post(
        "/console/sign-in",
        data={"name": "alice", "password": password, "csrf_token": csrf_of(form.text)},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return response.status_code


def failed_from(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(AuditEvent.actor, AuditEvent.detail).where(
                AuditEvent.action == "auth.sign_in_failed"
            )
        ).all()
    assert all(actor == f"web:{detail['ip']}" for actor, detail in rows)
    return [detail["ip"] for _, detail in rows]


async def test_a_rotated_forwarded_for_neither_escapes_the_lockout_nor_enters_the_audit_log(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    """Before: uvicorn believed X-Forwarded-For from loopback; 12 wrong passwords from 12
    claimed addresses, then the right one signed in."""
    assert not config.file.web.trust_proxy  # the shipped setting
    runtime, app = make_app(config, engine, clock)
    add_user(runtime, "alice", "agent")
    limit = config.file.console.sign_in_max_failures
    async with (
        running_server(app, **proxy_options(config.file.web)) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        codes = [await attempt(client, "wrong", f"203.0.113.{n}") for n in range(limit)]
        assert codes == [401] * limit
        assert await attempt(client, PASSWORD, "198.51.100.7") == 429
    assert failed_from(engine) == ["127.0.0.1"] * limit


async def test_behind_a_trusted_proxy_the_forwarded_client_is_the_address(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    web = config.file.web.model_copy(update={"trust_proxy": True})  # proxy on loopback
    config.file = config.file.model_copy(update={"web": web})
    runtime, app = make_app(config, engine, clock)
    add_user(runtime, "alice", "agent")
    async with (
        running_server(app, **proxy_options(config.file.web)) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        assert await attempt(client, "wrong", "203.0.113.9") == 401
        # The proxy appends the peer it saw; what the client claimed before it is not used.
        assert await attempt(client, "wrong", "10.6.6.6, 203.0.113.10") == 401
    assert failed_from(engine) == ["203.0.113.9", "203.0.113.10"]


async def test_a_proxy_elsewhere_is_not_the_loopback(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    web = config.file.web.model_copy(update={"trust_proxy": True, "proxy_addresses": ["10.0.0.2"]})
    config.file = config.file.model_copy(update={"web": web})
    runtime, app = make_app(config, engine, clock)
    add_user(runtime, "alice", "agent")
    async with (
        running_server(app, **proxy_options(config.file.web)) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        assert await attempt(client, "wrong", "203.0.113.9") == 401
    assert failed_from(engine) == ["127.0.0.1"]


async def test_the_embedded_server_believes_no_forwarded_header_by_default() -> None:
    """Before: running_server kept uvicorn's default (believe loopback's X-Forwarded-For)."""

    async def client_address(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = f"{scope['client'][0]} {scope['scheme']}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    async with running_server(client_address) as url, httpx.AsyncClient() as client:
        assert (await client.get(url, headers=headers)).text == "127.0.0.1 http"
