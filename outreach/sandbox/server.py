"""Run an ASGI app with uvicorn inside the current event loop, for tests, the demo and sandboxes.

We bind the socket ourselves: the port is known before uvicorn starts, and a bind error is an
ordinary `OSError` here instead of uvicorn's `sys.exit(1)`. The embedded server leaves signal
handling to whoever owns the loop, and believes no X-Forwarded-For unless told to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import uvicorn


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn would replace SIGINT/SIGTERM handlers and re-raise them afterwards.
        yield


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


@contextlib.asynccontextmanager
async def running_server(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    log_level: str = "warning",
    access_log: bool = False,
    startup_timeout: float = 10.0,
    graceful_timeout: int = 5,
    proxy_headers: bool = False,
    forwarded_allow_ips: list[str] | None = None,
) -> AsyncIterator[str]:
    """Serve `app` until the block exits; yields its base URL, e.g. "http://127.0.0.1:54321".
    uvicorn logs through the root logger, as under `outreach serve` (masked once
    configure_logging ran), not through handlers of its own.
    `**outreach.web.proxy.proxy_options(...)` sets the proxy options as `outreach serve` does."""
    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level=log_level,
        log_config=None,
        access_log=access_log,
        timeout_graceful_shutdown=graceful_timeout,
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips or [],
    )
    server = _EmbeddedServer(config)
    if access_log:  # an earlier server without one turned the access logger's propagation off
        logging.getLogger("uvicorn.access").propagate = True

    async def serve() -> None:
        try:
            await server.serve(sockets=[sock])
        except SystemExit as exc:  # uvicorn exits the process when lifespan startup fails
            raise RuntimeError(f"uvicorn stopped during startup (exit code {exc.code})") from exc

    task = asyncio.create_task(serve(), name=f"uvicorn:{bound_port}")
    try:
        async with asyncio.timeout(startup_timeout):
            while not server.started:
                if task.done():
                    task.result()  # raises the startup error
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.005)
        url_host = f"[{host}]" if ":" in host else host
        yield f"http://{url_host}:{bound_port}"
    finally:
        server.should_exit = True
        try:
            await task
        finally:
            sock.close()
