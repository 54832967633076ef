"""The security headers of every response, by kind of route (issue 13).

Pages (the console, the debtor's pay, dispute and unsubscribe pages) show personal data: never
framed, never cached, no inline script or style to inject into, no referrer to another site.
The JSON API returns full PII: never cached. Nothing is content-sniffed. A header the route set
itself is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from fastapi.routing import APIRoute
from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from outreach.web.paths import under

NOSNIFF = {"X-Content-Type-Options": "nosniff"}

PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    **NOSNIFF,
}

API_HEADERS = {"Cache-Control": "no-store", **NOSNIFF}


def route_prefixes(routes: Iterable[BaseRoute]) -> tuple[str, ...]:
    """The fixed start of each route's path: "/pay/{token}" -> "/pay/"."""
    return tuple(sorted({r.path.split("{")[0] for r in routes if isinstance(r, APIRoute)}, key=len))


class SecurityHeadersMiddleware:
    """Pure ASGI: adds the headers of the path's kind to the response start."""

    def __init__(self, app: ASGIApp, *, pages: Iterable[str], api: Iterable[str]) -> None:
        self.app = app
        self.kinds: tuple[tuple[tuple[str, ...], Mapping[str, str]], ...] = (
            (tuple(pages), PAGE_HEADERS),
            (tuple(api), API_HEADERS),
        )

    def headers_for(self, path: str) -> Mapping[str, str]:
        for prefixes, headers in self.kinds:
            if any(under(path, p) for p in prefixes):
                return headers
        return NOSNIFF

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.headers_for(scope["path"])

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)
