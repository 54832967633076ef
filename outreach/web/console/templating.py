"""The console's Jinja2 environment: autoescaped HTML, strict about undefined names."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import Response

from outreach.auth.users import has_role
from outreach.compliance.rules import title as rule_title
from outreach.masking import mask
from outreach.queries.providers import age_text
from outreach.web.deps import Principal

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"


def _dt(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else ""


env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters.update(age=age_text, dt=_dt, mask=mask, rule_title=rule_title)
env.globals.update(has_role=has_role)
templates = Jinja2Templates(env=env)


def page(
    request: Request,
    principal: Principal | None,
    name: str,
    *,
    status: int = 200,
    title: str,
    **context: Any,
) -> Response:
    """Render a console page; every page knows its user (for the menu) and CSRF token."""
    return templates.TemplateResponse(
        request,
        name,
        {
            "user": principal.user if principal else None,
            "csrf": principal.csrf if principal else "",
            "title": title,
            "error": context.pop("error", None),
            **context,
        },
        status_code=status,
    )
