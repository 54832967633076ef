"""Parsers for one CSV cell each: text, money, dates, states, ZIPs, zones, languages, tags, emails,
phones. Each raises `Invalid` with a reason."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import us

from outreach.db.types import MONEY_LIMIT
from outreach.masking import mask

_STATES = frozenset(s.abbr for s in us.states.STATES_AND_TERRITORIES) | {"DC"}


_BOOLS = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False}


_BOOLS |= {"false": False, "0": False}


_CENTS = Decimal("0.01")


_MAX_DAYS = 36_500


# A light, deliberately strict check: one @, a dotted domain, an alphabetic TLD.
_EMAIL_RE = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)


_ZIP_RE = re.compile(r"^(\d{5})(?:-?(\d{4}))?$")


_LANG_RE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,4})?$")


_TAG_RE = re.compile(r"^[a-z0-9][a-z0-9_:-]{0,31}$")


T = TypeVar("T")


class Invalid(ValueError):
    """A cell's value is wrong; the message is the reason shown to the user."""


def parse_text(max_len: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if len(value) > max_len:
            raise Invalid(f"longer than {max_len} characters")
        return value

    return parse


def parse_one_line(max_len: int) -> Callable[[str], str]:
    """Address parts: newlines and runs of spaces become one space (value is one line)."""
    check = parse_text(max_len)

    def parse(value: str) -> str:
        return check(" ".join(value.split()))

    return parse


def parse_choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        v = value.lower()
        if v not in options:
            raise Invalid(f"{value!r} is not one of {', '.join(options)}")
        return v

    return parse


_PLAIN_MONEY_RE = re.compile(r"\d{1,10}(?:\.\d{1,2})?")


def parse_money(value: str) -> Decimal:
    if _PLAIN_MONEY_RE.fullmatch(value):  # the common "1250.00": no cleaning, no sign, finite
        plain = Decimal(value)
        if plain >= MONEY_LIMIT:
            raise Invalid(f"{value} is too large")
        return plain.quantize(_CENTS)
    cleaned = value.replace("$", "").replace(",", "").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise Invalid(f"{value!r} is not an amount of money") from None
    if not amount.is_finite():
        raise Invalid(f"{value!r} is not an amount of money")
    if amount != amount.quantize(_CENTS):
        raise Invalid(f"{value!r} has fractions of a cent")
    if amount < 0:
        raise Invalid(f"negative amount {value}")
    if amount >= MONEY_LIMIT:
        raise Invalid(f"{value} is too large")
    return amount.quantize(_CENTS)


def parse_date(value: str) -> date:
    try:
        if len(value) == 10 and value[4] == "-":
            return date.fromisoformat(value)  # fast path; also rejects 2024-02-30
        return datetime.strptime(value, "%m/%d/%Y").date()
    except ValueError:
        pass
    raise Invalid(f"{value!r} is not a date (YYYY-MM-DD or MM/DD/YYYY)")


def parse_days(value: str) -> int:
    if not value.isdigit():
        raise Invalid(f"{value!r} is not a whole number of days >= 0")
    if int(value) > _MAX_DAYS:
        raise Invalid(f"{value} days is more than a century")
    return int(value)


def parse_bool(value: str) -> bool:
    try:
        return _BOOLS[value.lower()]
    except KeyError:
        raise Invalid(f"{value!r} is not yes/no/true/false/1/0") from None


def parse_state(value: str) -> str:
    v = value.upper()
    if v not in _STATES:
        raise Invalid(f"{value!r} is not a US state or territory code")
    return v


def parse_zip(value: str) -> str:
    m = _ZIP_RE.match(value)
    if m is None:
        hint = " (leading zero lost?)" if value.isdigit() and len(value) in (3, 4) else ""
        raise Invalid(f"{value!r} is not a 5- or 9-digit ZIP code{hint}")
    return f"{m[1]}-{m[2]}" if m[2] else m[1]


def parse_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"{value!r} is not an IANA time zone (e.g. America/Chicago)") from None
    return value


def parse_language(value: str) -> str:
    if not _LANG_RE.match(value):
        raise Invalid(f"{value!r} is not a language tag (e.g. en, es, es-MX)")
    primary, _, region = value.partition("-")
    return f"{primary.lower()}-{region.upper()}" if region else primary.lower()


def parse_tags(value: str) -> tuple[str, ...]:
    tags: list[str] = []
    for raw in value.split(";"):
        tag = raw.strip().lower()
        if not tag:
            continue
        if not _TAG_RE.match(tag):
            raise Invalid(f"{raw.strip()!r} is not a tag (letters, digits, _ : -)")
        if tag not in tags:
            tags.append(tag)
    return tuple(tags)


def parse_email(value: str) -> str:
    v = value.lower()
    local, _, domain = v.rpartition("@")
    if len(v) > 254 or len(local) > 64 or not _EMAIL_RE.match(v) or ".." in domain:
        raise Invalid(f"{mask(value)!r} is not an email address")  # shown last-4 only
    return v
