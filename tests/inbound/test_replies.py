"""Every reply template renders in both languages; the ones to debtors carry what they must;
and what a debtor reads is made of words: none glued to the next by a template tag, no
sentence that starts mid-thought, no English in a Spanish reply."""

from __future__ import annotations

import re
from datetime import date

import pytest

from outreach.config.settings import AgencySettings, InboundSettings
from outreach.inbound.replies import LANGUAGES, REPLIES, ReplyRenderer, sample_values
from outreach.render.environment import Renderer, money, phone

AGENCY = AgencySettings()
RENDERER = ReplyRenderer.for_settings(Renderer(), AGENCY, InboundSettings())
# Replies that speak about the account say who is writing (F14) and how to stop (F11).
TO_DEBTORS = ("pay", "dispute", "promise", "promise_format", "callback")


def rendered(language: str) -> list[tuple[str, str]]:
    """(what, text) for every reply with each set of sample values, and the built-in ones."""
    texts = [
        (f"{name} #{i}", RENDERER.render(name, language, **values))
        for name in REPLIES
        for i, values in enumerate(sample_values(language))
    ]
    return texts + [(f"{name} built-in", RENDERER.fallback(name, language)) for name in REPLIES]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", REPLIES)
def test_every_reply_renders(name: str, language: str) -> None:
    for values in sample_values(language):
        text = RENDERER.render(name, language, **values)
        assert text.startswith("Example Recovery Services LLC:") and "\n" not in text
        assert "{" not in text and len(text) <= 480
        if name in TO_DEBTORS:
            assert "STOP" in text
            assert ("debt collector" if language == "en" else "cobrador de deudas") in text
        if name in ("unknown", "acknowledgement", "help_generic", "opt_out"):
            assert "debt" not in text and "deuda" not in text and "$" not in text


# --- the words a debtor reads ------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Every word the English and the Spanish replies use (values aside, see _values). A word glued
# to the next ("disputeand") is in neither list; an English word in a Spanish reply is not in
# the Spanish one. Growing a reply means growing its list, on purpose.
ENGLISH = _words(
    """
    a about account accounts again agent also amount an and apply are at back be business by
    call central collection collector communication could data date days debt december
    dispute during example for frequency friday from help hours how in is it january link m
    match may message messages monday more msg no not number of on opt or our out p paused
    pay payment please promise questions rates read receive received recorded records reply
    review see send stop text thank the this to unsubscribed until us valid varies
    verification we will with you your
    """
)
SPANISH = _words(
    """
    a agente al antes aplicarse ayuda baja cancelar cobrador cobro comunicación cuenta
    cuentas cómo datos de del deudas diciembre dio disputa día días ejemplo el en
    encontramos enero enlace enviamos enviarle esta este fecha frecuencia gracias hasta
    horario la le leerá llamarnos llamará llame lo los mensaje mensajes mes monto más no
    nosotros nuestros número o oficina pagar pago pague para pausamos por preguntas promesa
    prometer proviene puede pueden recibimos recibir recibirá registramos registros responda
    revisará se sobre su sus también tarifas texto un usted varía vea verificación volverá
    válido y
    """
)
KEYWORDS = {"en": {"STOP", "HELP", "PROMISE"}, "es": {"STOP", "AYUDA", "PROMESA"}}
# Words both languages spell alike; anything else in both lists would hide English in Spanish.
SHARED = {"a", "no"}
ABBREVIATIONS = ("a.m.", "p.m.")  # "8 a.m. to 8 p.m." is not the end of a sentence
VALUE = "Qvalue"  # stands for a value; glued to a word it makes a word no list has


def _values(language: str) -> list[str]:
    """What the replies print from data (names, numbers, links), longest first."""
    found = {AGENCY.name, AGENCY.email, phone(AGENCY.phone)}
    for values in sample_values(language):
        account = values["account"]
        found |= {account["creditor"], account["account_ref"], values["pay_url"]}
        found.add(money(values["amount"]))
    return sorted(found, key=len, reverse=True)


def slips(text: str, language: str) -> list[str]:
    """What a reader would trip over in one rendered reply."""
    for value in _values(language):
        text = text.replace(value, VALUE)
    problems = []
    vocabulary, keywords = (ENGLISH if language == "en" else SPANISH), KEYWORDS[language]
    for word in re.findall(r"[^\W\d_]+", text):
        if word != VALUE and word not in keywords and word.casefold() not in vocabulary:
            problems.append(f"not a word of the {language} replies: {word!r}")
    # A sentence (after the brand's "Name: ", or after ". ") starts with a capital: a
    # lowercase start is a fragment, like a stray "account messages."
    for match in re.finditer(r"(?:^|[.:!?]) (\S+)", text):
        start, before = match.group(1), text[: match.start() + 1]
        if start[0].islower() and not before.endswith(ABBREVIATIONS):
            problems.append(f"a sentence starts with {start!r}")
    plain = text
    for abbreviation in ABBREVIATIONS:
        plain = plain.replace(abbreviation, "")
    if re.search(r"\s[.,:]", plain) or re.search(r"[.,:][^\W\d_]", plain):
        problems.append("punctuation not followed by a space or preceded by one")
    return problems


@pytest.mark.parametrize("language", LANGUAGES)
def test_replies_are_made_of_words(language: str) -> None:
    problems = [f"{what}: {p}" for what, text in rendered(language) for p in slips(text, language)]
    assert problems == []


def test_the_word_check_catches_the_slips_debtors_read() -> None:
    """The four slips found in the shipped replies, as debtors read them."""
    brand = "Example Recovery Services LLC"
    assert slips(f"{brand}: We recorded your disputeand paused collection.", "en") == [
        "not a word of the en replies: 'disputeand'"
    ]
    assert slips(f"{brand}: Registramos su disputay pausamos el cobro.", "es") == [
        "not a word of the es replies: 'disputay'"
    ]
    assert slips(f"{brand}: account messages. Help: (800) 555-0199.", "en") == [
        "a sentence starts with 'account'"
    ]
    english_end = f"{brand}: Ayuda: (800) 555-0199. Msg frequency varies."
    assert [p.split(": ")[1] for p in slips(english_end, "es")] == [
        "'Msg'",
        "'frequency'",
        "'varies'",
    ]


def test_the_vocabularies_keep_english_out_of_spanish() -> None:
    assert ENGLISH & SPANISH == SHARED


def test_spanish_dates() -> None:
    from outreach.inbound.replies import date_text

    assert date_text(date(2026, 12, 4), "es") == "4 de diciembre de 2026"
    assert date_text(date(2026, 12, 4), "en") == "December 4, 2026"
