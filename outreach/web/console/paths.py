"""Where the console lives (/console), the router each page module adds its routes to,
and how its forms answer: 303 See Other to a page."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

PREFIX = "/console"


def console_router() -> APIRouter:
    """A page module's router: full /console paths, kept out of the API's OpenAPI schema."""
    return APIRouter(prefix=PREFIX, include_in_schema=False)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)
