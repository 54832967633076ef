"""Every reply template renders in both languages; the ones to debtors carry what they must."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from outreach.config.settings import AgencySettings
from outreach.inbound.replies import LANGUAGES, REPLIES, ReplyRenderer
from outreach.render.context import Agency
from outreach.render.environment import Renderer

RENDERER = ReplyRenderer(Renderer(), Agency.from_settings(AgencySettings()), "Msg frequency varies")
VALUES = {
    "account": {"creditor": "Acme Bank", "account_ref": "****4821"},
    "pay_url": "https://pay.example.test/pay/abc",
    "days": 7,
    "accounts": 2,
    "amount": Decimal("50"),
    "due_text": "December 15, 2026",
}
# Replies that speak about the account say who is writing (F14) and how to stop (F11).
TO_DEBTORS = ("pay", "dispute", "promise", "promise_format", "callback")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", REPLIES)
def test_every_reply_renders(name: str, language: str) -> None:
    text = RENDERER.render(name, language, **VALUES)
    assert text.startswith("Example Recovery Services LLC:") and "\n" not in text
    assert "{" not in text and len(text) <= 480
    if name in TO_DEBTORS:
        assert "STOP" in text
        assert ("debt collector" if language == "en" else "cobrador de deudas") in text
    if name in ("unknown", "acknowledgement", "help_generic", "opt_out"):
        assert "debt" not in text and "deuda" not in text and "$" not in text


def test_spanish_dates() -> None:
    from outreach.inbound.replies import date_text

    assert date_text(date(2026, 12, 4), "es") == "4 de diciembre de 2026"
    assert date_text(date(2026, 12, 4), "en") == "December 4, 2026"
