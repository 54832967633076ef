"""The SMS reply parser: English and Spanish, keywords and plain language, conservative."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outreach.inbound.intents import CARRIER_STOP, IntentKind, parse

TODAY = date(2026, 12, 1)  # a Tuesday

CASES = [
    # opt-out: carrier keywords anywhere, plain language, Spanish
    ("STOP", IntentKind.OPT_OUT),
    ("stop.", IntentKind.OPT_OUT),
    ("Stop!!! 🙏", IntentKind.OPT_OUT),
    ("please STOPALL", IntentKind.OPT_OUT),
    ("Unsubscribe", IntentKind.OPT_OUT),
    ("end", IntentKind.OPT_OUT),
    ("QUIT", IntentKind.OPT_OUT),
    ("revoke", IntentKind.OPT_OUT),
    ("OPTOUT", IntentKind.OPT_OUT),
    ("opt out", IntentKind.OPT_OUT),
    ("cancel", IntentKind.OPT_OUT),
    ("I can pay $50 friday but stop", IntentKind.OPT_OUT),
    ("Please stop texting me", IntentKind.OPT_OUT),
    ("don't text me", IntentKind.OPT_OUT),
    ("Don’t message me again", IntentKind.OPT_OUT),
    ("No more messages!", IntentKind.OPT_OUT),
    ("leave me alone", IntentKind.OPT_OUT),
    ("wrong number", IntentKind.OPT_OUT),
    ("BAJA", IntentKind.OPT_OUT),
    ("Alto por favor", IntentKind.OPT_OUT),
    ("No me envíen más mensajes", IntentKind.OPT_OUT),
    ("dejen de enviar mensajes", IntentKind.OPT_OUT),
    ("quiero darme de baja", IntentKind.OPT_OUT),
    # opt-in and help: the whole message only
    ("START", IntentKind.OPT_IN),
    ("yes", IntentKind.OPT_IN),
    ("Unstop", IntentKind.OPT_IN),
    ("HELP", IntentKind.HELP),
    ("info?", IntentKind.HELP),
    ("AYUDA", IntentKind.HELP),
    ("yes I dispute this", IntentKind.DISPUTE),
    # pay, dispute, callback
    ("PAY", IntentKind.PAY),
    ("pay now", IntentKind.PAY),
    ("How do I pay?", IntentKind.PAY),
    ("quiero pagar", IntentKind.PAY),
    ("DISPUTE", IntentKind.DISPUTE),
    ("I dispute this", IntentKind.DISPUTE),
    ("this is not my debt", IntentKind.DISPUTE),
    ("No es mi deuda", IntentKind.DISPUTE),
    ("CALL", IntentKind.CALLBACK),
    ("call me after 5 please", IntentKind.CALLBACK),
    ("Llámame", IntentKind.CALLBACK),
    ("don't call me", IntentKind.OTHER),  # not a callback: an agent reads it
    # everything else
    ("the balance is too high", IntentKind.OTHER),
    ("el saldo es muy alto y no puedo pagar hoy", IntentKind.OTHER),
    ("hello 😀", IntentKind.OTHER),
    ("Привет, кто это?", IntentKind.OTHER),
    ("我会付款", IntentKind.OTHER),
    ("", IntentKind.OTHER),
    ("stopping by later", IntentKind.OTHER),
]


@pytest.mark.parametrize(("text", "kind"), CASES)
def test_intent(text: str, kind: IntentKind) -> None:
    assert parse(text, today=TODAY).kind is kind


PROMISES = [
    ("PROMISE 50 12/15", Decimal("50"), date(2026, 12, 15)),
    ("promise $75.50 12/20", Decimal("75.50"), date(2026, 12, 20)),
    ("I can pay $50 on Friday", Decimal("50"), date(2026, 12, 4)),
    ("i can pay 50 dollars tomorrow, thanks", Decimal("50"), date(2026, 12, 2)),
    ("I'll pay 1,200 on 12/31", Decimal("1200"), date(2026, 12, 31)),
    ("PROMESA 40 12/18", Decimal("40"), date(2026, 12, 18)),
    ("Puedo pagar 50 dólares el viernes", Decimal("50"), date(2026, 12, 4)),
]


@pytest.mark.parametrize(("text", "amount", "due"), PROMISES)
def test_promise_amount_and_date(text: str, amount: Decimal, due: date) -> None:
    intent = parse(text, today=TODAY)
    assert (intent.kind, intent.amount, intent.due_on) == (IntentKind.PROMISE, amount, due)
    assert intent.complete_promise


@pytest.mark.parametrize(
    "text",
    [
        "promise 50",  # no date
        "PROMISE 12/15",  # no amount
        "I can pay $50 or $60 on Friday",  # two amounts
        "I can pay $50 when I get paid",  # no date
        "I can pay 50 on 11/15",  # a past date read as next year: too far to be meant
        "promise 50 in six months",  # beyond promise_max_days
        "promise 0 12/15",
    ],
)
def test_ambiguous_promises_take_no_financial_action(text: str) -> None:
    intent = parse(text, today=TODAY)
    assert intent.kind is IntentKind.PROMISE
    assert not intent.complete_promise


def test_relative_dates_resolve_from_the_debtors_today() -> None:
    assert parse("I can pay $20 tomorrow", today=date(2026, 12, 31)).due_on == date(2027, 1, 1)


def test_twilio_opt_out_type_is_honoured() -> None:
    assert parse("ARRET", today=TODAY, opt_out_type="STOP").kind is IntentKind.OPT_OUT
    assert parse("COMENZAR", today=TODAY, opt_out_type="START").kind is IntentKind.OPT_IN
    assert parse("AIDE", today=TODAY, opt_out_type="HELP").kind is IntentKind.HELP


def test_spanish_is_recognised_for_the_reply() -> None:
    assert parse("BAJA", today=TODAY).language == "es"
    assert parse("No es mi deuda", today=TODAY).language == "es"
    assert parse("STOP", today=TODAY).language is None


def test_very_long_text_is_parsed_in_part() -> None:
    assert parse("x" * 5000 + " STOP", today=TODAY).kind is IntentKind.OTHER  # beyond the limit
    assert parse("STOP " + "x" * 5000, today=TODAY).kind is IntentKind.OPT_OUT


_SEPARATORS = st.text(alphabet=" \t\n.,!?¡¿;:-()\"'", min_size=1, max_size=3)


def _any_case(word: str) -> st.SearchStrategy[str]:
    return st.tuples(*(st.sampled_from([c.lower(), c.upper()]) for c in word)).map("".join)


@settings(max_examples=400, deadline=None)
@given(
    prefix=st.text(max_size=60),
    keyword=st.sampled_from(sorted(CARRIER_STOP)).flatmap(_any_case),
    before=_SEPARATORS,
    after=_SEPARATORS,
    suffix=st.text(max_size=60),
    opt_out_type=st.sampled_from([None, "", "START", "HELP", "STOP"]),
)
def test_a_carrier_stop_keyword_as_a_whole_word_is_always_an_opt_out(
    prefix: str, keyword: str, before: str, after: str, suffix: str, opt_out_type: str | None
) -> None:
    text = f"{prefix}{before}{keyword}{after}{suffix}"
    assert parse(text, today=TODAY, opt_out_type=opt_out_type).kind is IntentKind.OPT_OUT


@settings(max_examples=400, deadline=None)
@given(text=st.text(max_size=300), opt_out_type=st.one_of(st.none(), st.text(max_size=8)))
def test_the_parser_never_crashes(text: str, opt_out_type: str | None) -> None:
    intent = parse(text, today=TODAY, opt_out_type=opt_out_type)
    assert isinstance(intent.kind, IntentKind)
    if intent.kind is not IntentKind.PROMISE:
        assert intent.amount is None and intent.due_on is None
