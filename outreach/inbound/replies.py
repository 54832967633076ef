"""The SMS replies outreach sends back, rendered from templates/sms/replies/NAME[.es].txt.

They go through the renderer's Jinja2 environment, so operations can override any of them
in config/templates/sms/replies/ like every other template. A Spanish variant is used when
the debtor's language is Spanish or the message was.

An override can fail (a typo, a missing value): the debtor's message has been stored and
acted on by then (inbound.apply), and the reply falls back to a built-in text of this module
that needs no template. `check_replies` renders every reply in every language with sample
values, so `outreach check` reports a broken one before a debtor meets it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import jinja2

from outreach.config.settings import AgencySettings, InboundSettings
from outreach.render.context import Agency
from outreach.render.environment import Renderer, TemplateError, phone

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
MAX_LENGTH = 1600  # Twilio refuses a longer message body

_MONTHS_ES = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio",
    "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
)  # fmt: skip
_WS = re.compile(r"\s+")


def date_text(value: date, language: str) -> str:
    if language == "es":
        return f"{value.day} de {_MONTHS_ES[value.month - 1]} de {value.year}"
    return f"{value:%B} {value.day}, {value.year}"


def sample_values(language: str) -> tuple[dict[str, Any], ...]:
    """What each reply is given (besides agency and frequency), as the handler gives it: one
    account and several, so both sides of a template's {% if %} render in `check_replies`."""
    return (
        {
            "account": {"creditor": "Acme Bank", "account_ref": "********4821"},
            "pay_url": "https://pay.example-recovery.test/pay/eyJhIjoxMn0.aZ3k",
            "days": 7,
            "accounts": 1,
            "amount": Decimal("50.00"),
            "due_text": date_text(date(2026, 12, 15), language),
        },
        {
            "account": {"creditor": "First Union Credit", "account_ref": "******0017"},
            "pay_url": "https://pay.example-recovery.test/pay/eyJhIjo0Mn0.Qm9v",
            "days": 14,
            "accounts": 3,
            "amount": Decimal("1234.56"),
            "due_text": date_text(date(2027, 1, 5), language),
        },
    )


class ReplyRenderer:
    def __init__(
        self, renderer: Renderer, agency: Agency, frequency: Mapping[str, str] | str
    ) -> None:
        self._env = renderer.env
        self._agency = agency
        self._frequency = (
            dict.fromkeys(LANGUAGES, frequency) if isinstance(frequency, str) else dict(frequency)
        )

    @classmethod
    def for_settings(
        cls, renderer: Renderer, agency: AgencySettings, inbound: InboundSettings
    ) -> ReplyRenderer:
        frequency = {"en": inbound.message_frequency, "es": inbound.message_frequency_es}
        return cls(renderer, Agency.from_settings(agency), frequency)

    def render(self, name: str, language: str = "en", **values: Any) -> str:
        """One reply as a single line (authors wrap lines freely, as in sms/ templates).
        Raises TemplateError naming the template file when it cannot be rendered."""
        if name not in REPLIES:
            raise ValueError(f"unknown reply {name!r}")
        files = [f"sms/replies/{name}.es.txt"] if language == "es" else []
        files.append(f"sms/replies/{name}.txt")
        try:
            template = self._env.select_template(files)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(exc.name or files[0], exc.lineno, exc.message or "") from exc
        except jinja2.TemplateNotFound as exc:
            raise TemplateError(files[-1], None, "template file not found") from exc
        where = template.name or files[-1]
        frequency = self._frequency.get(language) or self._frequency["en"]
        try:
            text = template.render(agency=self._agency, frequency=frequency, **values)
        except Exception as exc:  # an override may fail in any way: the caller falls back
            raise TemplateError(where, None, f"{type(exc).__name__}: {exc}") from exc
        text = _WS.sub(" ", text).strip()
        if not text:
            raise TemplateError(where, None, "renders to an empty text")
        if len(text) > MAX_LENGTH:
            raise TemplateError(where, None, f"renders to {len(text)} characters (SMS max 1600)")
        return text

    def fallback(self, name: str, language: str = "en") -> str:
        """The built-in text sent when the reply's template fails: no template, no values but
        the agency's, nothing about any account. Opt-out, opt-in and help keep what they
        must say (T2, T3); every other reply becomes the neutral acknowledgement."""
        brand, help_line = self._agency.name, phone(self._agency.phone)
        if language == "es":
            texts = {
                "opt_out": "Usted se dio de baja y no recibirá más mensajes de texto de nosotros.",
                "opt_in": "Volverá a recibir nuestros mensajes de texto. Pueden aplicarse"
                " tarifas de mensajes y datos. Responda AYUDA para ayuda, STOP para cancelar.",
                "help": f"Ayuda: {help_line}. Pueden aplicarse tarifas de mensajes y datos."
                " Responda STOP para cancelar.",
                "other": "Recibimos su mensaje y un agente lo revisará."
                " Responda STOP para cancelar.",
            }
        else:
            texts = {
                "opt_out": "You are unsubscribed and will receive no more text messages from us.",
                "opt_in": "You will receive text messages from us again. Msg & data rates may"
                " apply. Reply HELP for help, STOP to opt out.",
                "help": f"Help: {help_line}. Msg & data rates may apply. Reply STOP to opt out.",
                "other": "We received your message and an agent will review it."
                " Reply STOP to opt out.",
            }
        kind = "help" if name in ("help", "help_generic") else name
        return f"{brand}: {texts.get(kind, texts['other'])}"


def check_replies(replies: ReplyRenderer) -> list[str]:
    """One line per reply template that fails with the sample values, "FILE: reason"."""
    errors: list[str] = []
    for name in REPLIES:
        for language in LANGUAGES:
            for values in sample_values(language):
                try:
                    replies.render(name, language, **values)
                except TemplateError as exc:
                    line = f"{exc} (reply {name!r}, language {language})"
                    if line not in errors:
                        errors.append(line)
    return errors


__all__ = [
    "LANGUAGES",
    "MAX_LENGTH",
    "REPLIES",
    "ReplyRenderer",
    "check_replies",
    "date_text",
    "sample_values",
]
