"""uvicorn's access log without secrets: it prints each request's full target, and the
link tokens of the public pages (pay, dispute, unsubscribe) sit in the path while the log's
filters (a phone, an email, an account) travel in the query string, URL-encoded past the
masking filter. The query string is dropped; a path segment that a route names `token`,
or any long random-looking one, is masked to its last 4 characters; a long path is cut. The
line is then masked like every other (outreach.masking)."""

from __future__ import annotations

import logging
import re

from fastapi import APIRouter
from starlette.routing import Route

from outreach.masking import mask, mask_log_text

ACCESS_LOGGER = "uvicorn.access"
PATH_LIMIT = 1024  # characters of a path shown; the method and the status stay on the line
_HEX = re.compile(r"[0-9a-fA-F]{32,}")
_URL_SAFE = re.compile(r"[\w.~=-]{16,}", re.ASCII)


def _random_looking(segment: str) -> bool:
    """A signed token or random id (base64url with upper, lower and digits; long hex), not a
    word, a slug or a number."""
    if _HEX.fullmatch(segment):
        return True
    return (
        _URL_SAFE.fullmatch(segment) is not None
        and any(c.isupper() for c in segment)
        and any(c.islower() for c in segment)
        and any(c.isdigit() for c in segment)
    )


class AccessLogFilter(logging.Filter):
    """Rewrites the target in uvicorn's access lines ('%s - "%s %s HTTP/%s" %d')."""

    def __init__(self) -> None:
        super().__init__()
        self.token_routes: dict[str, re.Pattern[str]] = {}

    def add_routes(self, router: APIRouter) -> None:
        for route in router.routes:
            if isinstance(route, Route) and "token" in route.param_convertors:
                self.token_routes[route.path] = route.path_regex

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], self.safe_target(args[2]), *args[3:])
        return True

    def safe_target(self, target: str) -> str:
        path, sep, _ = target.partition("?")
        for pattern in self.token_routes.values():
            if match := pattern.match(path):
                start, end = match.span("token")
                path = path[:start] + mask(path[start:end]) + path[end:]
                break
        segments = path.split("/")
        path = "/".join(mask(s) if _random_looking(s) else s for s in segments)
        if len(path) > PATH_LIMIT:  # cut (and masked past the cut, no number cut in two);
            path = mask_log_text(path, limit=PATH_LIMIT)  # the handler masks the rest
        return path + ("?…" if sep else "")


def install_access_log(*routers: APIRouter) -> None:
    """Filter uvicorn's access logger (once per process) and learn the routes with a `token`
    parameter of `routers` (included at the root: their paths are the request's)."""
    access = logging.getLogger(ACCESS_LOGGER)
    found = [f for f in access.filters if isinstance(f, AccessLogFilter)]
    log_filter = found[0] if found else AccessLogFilter()
    if not found:
        access.addFilter(log_filter)
    for router in routers:
        log_filter.add_routes(router)
