"""Request body limits, enforced on the stream for every route (issue 13).

A declared Content-Length over the route's limit is refused at once, before the app runs; a
chunked or under-declared body is counted as it arrives and refused the moment it passes the
limit, so no route ever parses, checks a signature over, or holds more than its limit. The 413
goes out from here, whatever the app then does with the end of its body (`http.disconnect`):
a handler that catches every error cannot turn it into a 400 or a 500. It closes the
connection, so the server stops reading what the client still sends.

starlette's RequestBodyLimitMiddleware raises from `receive` instead and lets the app run
before it looks at Content-Length, so a handler's `except Exception` decides the answer.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from outreach.config.settings import WebSettings
from outreach.web.paths import under

log = logging.getLogger(__name__)

_CLOSE = (b"connection", b"close")


@dataclass(frozen=True)
class BodyLimits:
    """The largest body per path prefix (the longest matching prefix wins), else `default`."""

    default: int
    by_prefix: tuple[tuple[str, int], ...] = ()

    @classmethod
    def from_settings(cls, settings: WebSettings) -> BodyLimits:
        ordered = sorted(settings.body_limits.items(), key=lambda item: -len(item[0]))
        return cls(settings.max_body_bytes, tuple(ordered))

    def for_path(self, path: str) -> tuple[str, int]:
        """(the prefix that applies or "default", its limit). A prefix matches whole path
        segments: "/webhooks" covers /webhooks and /webhooks/..., not /webhooksX."""
        for prefix, limit in self.by_prefix:
            if under(path, prefix):
                return prefix, limit
        return "default", self.default


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed one itself
    return None


def _has_body(scope: Scope) -> bool:
    return any(
        (name == b"content-length" and value.strip() not in (b"", b"0"))
        or name == b"transfer-encoding"
        for name, value in scope["headers"]
    )


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"request body over {limit} bytes"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                _CLOSE,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Pure ASGI (no buffering of its own): counts `http.request` bytes as the app reads them."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        prefix, limit = self.limits.for_path(scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            log.warning(
                "%s %s: Content-Length %d over %d: refused",
                scope["method"],
                prefix,
                declared,
                limit,
            )
            await _too_large(send, limit)
            return

        received = 0
        body_done = not _has_body(scope)
        started = refused = False

        async def limited_receive() -> Message:
            nonlocal received, body_done, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] != "http.request":
                return message
            received += len(message.get("body", b""))
            if received <= limit:
                body_done = not message.get("more_body", False)
                return message
            refused = True
            log.warning("%s %s: body over %d: refused", scope["method"], prefix, limit)
            if not started:
                await _too_large(send, limit)
            return {"type": "http.disconnect"}

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused and not started:
                return  # the 413 went out already: the app's own answer is dropped
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                # Answered before a body of unknown length ended: close, so the server stops
                # reading it. A declared length (within the limit) is read out instead: closing
                # with its bytes unread would reset the connection under the client's answer.
                if not body_done and declared is None and _CLOSE not in headers:
                    message = {**message, "headers": [*headers, _CLOSE]}
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except ClientDisconnect:
            if not refused:
                raise
            # starlette's word for the body's end that limited_receive gave: answered already
