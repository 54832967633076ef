"""The SMS replies outreach sends back, rendered from templates/sms/replies/NAME[.es].txt.

They go through the renderer's Jinja2 environment, so operations can override any of them
in config/templates/sms/replies/ like every other template. A Spanish variant is used when
the debtor's language is Spanish or the message was.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from outreach.render.context import Agency
from outreach.render.environment import Renderer

REPLIES = (
    "opt_out",
    "opt_in",
    "help",
    "help_generic",
    "pay",
    "dispute",
    "promise",
    "promise_format",
    "callback",
    "acknowledgement",
    "unknown",
)
LANGUAGES = ("en", "es")

_MONTHS_ES = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio",
    "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
)  # fmt: skip
_WS = re.compile(r"\s+")


def date_text(value: date, language: str) -> str:
    if language == "es":
        return f"{value.day} de {_MONTHS_ES[value.month - 1]} de {value.year}"
    return f"{value:%B} {value.day}, {value.year}"


class ReplyRenderer:
    def __init__(self, renderer: Renderer, agency: Agency, frequency: str) -> None:
        self._env = renderer.env
        self._agency = agency
        self._frequency = frequency

    def render(self, name: str, language: str = "en", **values: Any) -> str:
        """One reply as a single line (authors wrap lines freely, as in sms/ templates)."""
        if name not in REPLIES:
            raise ValueError(f"unknown reply {name!r}")
        names = [f"sms/replies/{name}.es.txt"] if language == "es" else []
        template = self._env.select_template([*names, f"sms/replies/{name}.txt"])
        text = template.render(agency=self._agency, frequency=self._frequency, **values)
        return _WS.sub(" ", text).strip()
