"""The agent console: server-rendered pages under /console for agents, ops and admins."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from outreach.web.console.paths import PREFIX
from outreach.web.console.router import router
from outreach.web.console.templating import STATIC_DIR, page
from outreach.web.deps import SignInRequired
from outreach.web.paths import under


def install_console(app: FastAPI) -> None:
    """Add the console's routes, static files and error pages to `app` (its security headers:
    outreach.web.headers)."""
    app.include_router(router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC_DIR), name="console-static")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/log", status_code=303)

    @app.exception_handler(SignInRequired)
    async def to_sign_in(request: Request, _: SignInRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{PREFIX}/sign-in?next={quote(target)}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not _is_console(request) or exc.status_code < 400:
            return await http_exception_handler(request, exc)
        return page(
            request, None, "error.html", title="Error", status=exc.status_code, error=exc.detail
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_form(request: Request, exc: RequestValidationError) -> Response:
        if not _is_console(request):
            return await request_validation_exception_handler(request, _printable(exc))
        text = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'input'}: {e['msg']}" for e in exc.errors()
        )
        return page(request, None, "error.html", title="Error", status=422, error=text)


def _printable(exc: RequestValidationError) -> RequestValidationError:
    """The errors with the input they echo made valid UTF-8 (a body that is not UTF-8, a lone
    surrogate from a JSON escape): FastAPI's handler would encode them strictly and answer
    500 instead of the 422."""
    return RequestValidationError(
        [{**e, "input": _utf8(e["input"])} if "input" in e else e for e in exc.errors()],
        body=None,
    )


def _utf8(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_utf8(k): _utf8(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_utf8(v) for v in value]
    return value


def _is_console(request: Request) -> bool:
    return under(request.url.path, PREFIX)
