"""What a debtor's SMS reply asks for: a pure parser, text -> Intent, English and Spanish.

Conservative by design, because the two kinds of mistake are not equal:
- Opting out too eagerly costs a channel; missing an opt-out breaks the law (47 CFR
  64.1200(a)(10) counts any reasonable way of saying stop). So a carrier stop keyword
  anywhere as a whole word is always an opt-out, and plain-language requests are caught too.
- A financial action (a promise to pay) is taken only on an unambiguous amount and date;
  anything less asks for the format and goes to an agent.
Keywords that Twilio itself honours only as the whole message (START, HELP...) are matched
the same way here, so "yes I dispute this" is a dispute, not an opt-in.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

import dateparser


class IntentKind(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    PAY = "pay"
    DISPUTE = "dispute"
    PROMISE = "promise"
    CALLBACK = "callback"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Intent:
    kind: IntentKind
    language: str | None = None  # "es" when the text is recognisably Spanish, else None
    amount: Decimal | None = None  # promise only
    due_on: date | None = None  # promise only
    matched: str = ""  # the keyword or phrase that decided it (for the log)

    @property
    def complete_promise(self) -> bool:
        complete = self.amount is not None and self.due_on is not None
        return self.kind is IntentKind.PROMISE and complete


# T4: carrier keywords. Opt-out ones count anywhere as a whole word; the others only as the
# whole message (as carriers and Twilio treat them).
CARRIER_STOP = frozenset(
    {"stop", "stopall", "unsubscribe", "end", "quit", "revoke", "optout", "cancel"}
)
CARRIER_START = frozenset({"start", "yes", "unstop"})
CARRIER_HELP = frozenset({"help", "info"})

# Spanish one-word requests. "alto" also means "high" and "para" "for", so a lone word
# counts only in a short message ("ALTO", "baja por favor"); longer texts need a phrase.
_ES_STOP_WORDS = frozenset({"baja", "alto", "parar", "detener", "basta", "cancelar", "altos"})
_SHORT = 4

_OPT_OUT_PHRASES = [
    # English
    r"\bstop (?:texting|messaging|contacting|sending|messages|texts|emailing|bothering)\b",
    r"\b(?:dont|do not|never) (?:text|txt|message|msg|contact|sms|send)\b",
    r"\bno (?:more )?(?:texts?|messages?|sms)\b",
    r"\bopt (?:me )?out\b",
    r"\b(?:remove|delete|take) (?:me|my number)\b",
    r"\bunsubscribe\b",
    r"\bleave me alone\b",
    r"\bwrong number\b",
    r"\bquit (?:texting|messaging)\b",
    # Spanish (accents removed)
    r"\bde baja\b",
    r"\bno (?:me )?(?:envie|envien|envies|mande|manden|mandes|escriba|escriban|escribas|"
    r"contacte|contacten|contactes|moleste|molesten|molestes)\b",
    r"\bno (?:quiero )?mas (?:mensajes|textos|sms)\b",
    r"\bno quiero (?:recibir )?(?:mensajes|textos)\b",
    r"\b(?:dejen|deje|deja|paren|pare|para) de (?:enviar|mandar|escribir|contactar|molestar)\b",
    r"\bnumero equivocado\b",
]
_OPT_OUT_RE = re.compile("|".join(_OPT_OUT_PHRASES))

_DISPUTE_RE = re.compile(
    r"\b(?:dispute|disputed|disputing|disputa|disputo|disputar|"
    r"not my (?:debt|account|bill)|(?:this|it) (?:is not|isnt) mine|not mine|"
    r"(?:i )?(?:dont|do not) owe|never had (?:an?|this) account|"
    r"no es mi (?:deuda|cuenta)|no es mia|no debo|no reconozco)\b"
)
_CALL_NEGATED = re.compile(r"\b(?:dont|do not|never|no) (?:call|me llamen|llamen|llames)\b")
_CALL_RE = re.compile(
    r"\b(?:call me|call back|callback|give me a call|call us|please call|"
    r"llamame|llamenme|llameme|me llaman|me llamen|llamada|llamar)\b"
)
_PROMISE_START = re.compile(r"^(?:promise|promesa|prometo)\b")
_PROMISE_RE = re.compile(
    r"\b(?:i can pay|i will pay|ill pay|i could pay|i am going to pay|im going to pay|"
    r"i promise to pay|i can send|i will send|"
    r"(?<!no )puedo pagar|(?<!no )voy a pagar|(?<!no )pagare|prometo pagar)\b"
)
_PAY_RE = re.compile(
    r"\b(?:i want to pay|how (?:do|can) i pay|pay online|quiero pagar|como (?:puedo )?pago|"
    r"como (?:puedo )?pagar)\b"
)
_PAY_WORDS = frozenset({"pay", "pagar", "pago", "payment"})
_PAY_FILLER = frozenset({"now", "link", "please", "online", "ahora", "enlace", "por", "favor"})
_HELP_ES = frozenset({"ayuda"})

_ES_MARKERS = frozenset(
    {
        "baja", "alto", "parar", "detener", "basta", "cancelar", "ayuda", "pagar", "pago",
        "promesa", "prometo", "disputa", "disputo", "llamame", "llamenme", "gracias", "favor",
        "puedo", "quiero", "mensajes", "deuda", "cuenta", "viernes", "lunes", "martes",
        "miercoles", "jueves", "sabado", "domingo", "manana", "hoy", "el", "de", "mas",
        "envien", "llamar", "pagare", "dolares",
    }
)  # fmt: skip

# "$50", "50 dollars", "50.00": the amount a promise names.
_MONEY = re.compile(
    r"\$\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?"
    r"|\b(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?\s*(?:dollars?|d[oó]lares|usd|bucks)\b"
)
# A bare number right after the trigger ("PROMISE 50 12/15", "i can pay 50 on friday").
_BARE_AMOUNT = re.compile(r"^\s*\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?![\d/.\-])")
_LEADING_FILLER = re.compile(r"^(?:on|by|this|for|el|este|para el|para|antes del?|del?|a)\s+")
_TRAILING_FILLER = re.compile(r"\s+(?:thanks|thank you|thx|please|pls|ok|okay|gracias|por favor)$")
_PUNCT_EDGES = re.compile(r"^[\W_]+|[\W_]+$")

PARSE_LIMIT = 480  # characters looked at; longer texts are stored whole but parsed in part


_APOSTROPHES = re.compile(r"['’‘`´]")


def _fold(text: str) -> str:
    """NFKC, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _plain(folded: str) -> str:
    """Accents removed and anything but letters and digits turned into single spaces."""
    decomposed = unicodedata.normalize("NFKD", folded)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.findall(r"[^\W_]+", stripped))


def _language(words: list[str], plain: str) -> str | None:
    spanish = sum(1 for w in words if w in _ES_MARKERS) + plain.count("no es mi")
    return "es" if spanish else None


def parse(text: str, *, today: date, opt_out_type: str | None = None, max_days: int = 60) -> Intent:
    """The intent of one SMS. `today` is the debtor's local date (relative dates resolve
    against it); `opt_out_type` is Twilio's Advanced Opt-Out field (STOP, START, HELP)."""
    folded = _fold(text[:PARSE_LIMIT])
    # Phrases read "don't" as "dont"; keywords treat an apostrophe as a word boundary, so
    # "STOP's" or "end'" still stop.
    plain = _plain(_APOSTROPHES.sub("", folded))
    words = plain.split()
    keyword_words = _plain(folded).split()
    lang = _language(words, plain)

    def intent(kind: IntentKind, matched: str, **kw: object) -> Intent:
        return Intent(kind, lang, matched=matched, **kw)  # type: ignore[arg-type]

    stop = next((w for w in keyword_words if w in CARRIER_STOP), None)
    if stop is not None:
        return intent(IntentKind.OPT_OUT, stop)
    if (opt_out_type or "").upper() == "STOP":
        return intent(IntentKind.OPT_OUT, "OptOutType=STOP")
    if (phrase := _OPT_OUT_RE.search(plain)) is not None:
        return intent(IntentKind.OPT_OUT, phrase.group(0))
    if len(words) <= _SHORT and (es := next((w for w in words if w in _ES_STOP_WORDS), None)):
        return intent(IntentKind.OPT_OUT, es)

    if (opt_out_type or "").upper() == "START" or (len(words) == 1 and words[0] in CARRIER_START):
        return intent(IntentKind.OPT_IN, words[0] if words else "OptOutType=START")
    if (opt_out_type or "").upper() == "HELP" or (
        len(words) == 1 and words[0] in CARRIER_HELP | _HELP_ES
    ):
        if words and words[0] in _HELP_ES:
            lang = "es"
        return intent(IntentKind.HELP, words[0] if words else "OptOutType=HELP")

    if (dispute := _DISPUTE_RE.search(plain)) is not None:
        return intent(IntentKind.DISPUTE, dispute.group(0))

    trigger = _PROMISE_START.search(plain) or _PROMISE_RE.search(plain)
    if trigger is not None:
        amount, due_on = _promise_terms(folded, trigger.group(0), today, max_days)
        return intent(IntentKind.PROMISE, trigger.group(0), amount=amount, due_on=due_on)

    if words and words[0] in _PAY_WORDS and all(w in _PAY_FILLER for w in words[1:]):
        return intent(IntentKind.PAY, words[0])
    if (pay := _PAY_RE.search(plain)) is not None:
        return intent(IntentKind.PAY, pay.group(0))
    if words == ["call"] or words == ["llamar"]:
        return intent(IntentKind.CALLBACK, words[0])
    if _CALL_NEGATED.search(plain) is None and (call := _CALL_RE.search(plain)) is not None:
        return intent(IntentKind.CALLBACK, call.group(0))
    return intent(IntentKind.OTHER, "")


def _promise_terms(
    folded: str, trigger: str, today: date, max_days: int
) -> tuple[Decimal | None, date | None]:
    """(amount, date) when both are unambiguous, else what could be read (maybe neither).

    The amount is the only money figure in the text ("$50", "50 dollars") or the number
    right after the trigger word; the date is everything else after it, which must parse
    whole as one date between today and `max_days` ahead."""
    # Work on the text after the trigger, in the folded form (accents kept for dateparser).
    folded = _APOSTROPHES.sub("", folded)
    plain_text = _plain(folded)
    at = plain_text.find(trigger)
    # Map the trigger's end in the plain text back to the folded text by word count.
    skip = len(plain_text[: at + len(trigger)].split()) if at >= 0 else 0
    rest = _after_words(folded, skip)

    amount: Decimal | None = None
    moneys = list(_MONEY.finditer(rest))
    if len(moneys) > 1:
        return None, None
    if moneys:
        m = moneys[0]
        amount = _decimal(m.group(1) or m.group(3), m.group(2) or m.group(4))
        rest = (rest[: m.start()] + " " + rest[m.end() :]).strip()
    elif (bare := _BARE_AMOUNT.match(rest)) is not None:
        amount = _decimal(bare.group(1), bare.group(2))
        rest = rest[bare.end() :].strip()
    if amount is not None and amount <= 0:
        amount = None
    return amount, _date(rest, today, max_days)


def _after_words(folded: str, count: int) -> str:
    """`folded` without its first `count` words (words as _plain counts them)."""
    if count <= 0:
        return folded
    for seen, match in enumerate(re.finditer(r"[^\W_]+", folded), start=1):
        if seen == count:
            return folded[match.end() :]
    return ""


def _decimal(whole: str, cents: str | None) -> Decimal | None:
    try:
        return Decimal(whole.replace(",", "") + (f".{cents}" if cents else ""))
    except InvalidOperation:
        return None


def _date(text: str, today: date, max_days: int) -> date | None:
    text = _PUNCT_EDGES.sub("", text.strip())
    text = _TRAILING_FILLER.sub("", text)
    text = _PUNCT_EDGES.sub("", _LEADING_FILLER.sub("", text))
    if not text or len(text) > 40 or not re.search(r"[^\W\d_]{3,}|\d", text):
        return None
    base = datetime(today.year, today.month, today.day, 12, 0)
    parsed = dateparser.parse(
        text,
        languages=["en", "es"],
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": base,
            "DATE_ORDER": "MDY",  # US agency: 12/15 is December 15, in Spanish texts too
            "RETURN_AS_TIMEZONE_AWARE": False,
            "STRICT_PARSING": False,
        },
    )
    if parsed is None:
        return None
    due = parsed.date()
    if not today <= due <= today + timedelta(days=max_days):
        return None
    return due
