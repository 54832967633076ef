"""SMS encoding (REFERENCE.md, SMS encoding): GSM-7 or UCS-2, and how many segments.

GSM-7: 160 characters in one segment, 153 per segment when split; the extension characters
count 2. Any other character makes the whole message UCS-2: 70 in one segment, 67 per
segment (counted in UTF-16 code units, so an emoji counts 2).
"""

from __future__ import annotations

import unicodedata
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = frozenset("^{}\\[]~|€\f")
_GSM7 = _GSM7_BASIC | _GSM7_EXTENDED

# Typographic punctuation that word processors and template authors let in, and its GSM-7
# spelling.
_PUNCTUATION = str.maketrans(
    {
        "\u2018": "'",  # left single quote
        "\u2019": "'",  # right single quote, apostrophe
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",  # prime
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2012": "-",  # figure dash
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2015": "-",
        "\u2212": "-",  # minus sign
        "\u2026": "...",
        "\u00a0": " ",  # no-break space
        "\u2009": " ",
        "\u202f": " ",
    }
)


def non_gsm7(text: str) -> list[str]:
    """Characters that would force the whole SMS into UCS-2, sorted."""
    return sorted(set(text) - _GSM7)


def encoding(text: str) -> Encoding:
    return "GSM-7" if set(text) <= _GSM7 else "UCS-2"


def sms_segments(text: str) -> int:
    """How many segments `text` takes: GSM-7 160/153 (extension chars count 2), else UCS-2 70/67."""
    if encoding(text) == "UCS-2":
        units, single, multi = len(text.encode("utf-16-le")) // 2, 70, 67
    else:
        units, single, multi = len(text) + sum(c in _GSM7_EXTENDED for c in text), 160, 153
    if units <= single:
        return 1
    return -(-units // multi)


def normalize(text: str) -> str:
    """`text` with typographic punctuation spelled in GSM-7, if that makes the whole text
    GSM-7; otherwise `text` unchanged (it is UCS-2 anyway, and the punctuation is fine)."""
    if encoding(text) == "GSM-7":
        return text
    plain = text.translate(_PUNCTUATION)
    return plain if encoding(plain) == "GSM-7" else text


def fold_accents(text: str) -> str:
    """`text` with letters outside GSM-7 spelled without their accent ("María" -> "Maria",
    "ő" -> "o"), if that makes the whole text GSM-7; otherwise `text` unchanged. GSM-7 has
    é, ñ, ü and a few more, which stay; only the others are folded (as Twilio's Smart
    Encoding does), so a Spanish name does not triple the cost of a message."""
    if encoding(text) == "GSM-7":
        return text
    folded = "".join(c if c in _GSM7 else _strip_marks(c) for c in text)
    return folded if encoding(folded) == "GSM-7" else text


def _strip_marks(c: str) -> str:
    return "".join(m for m in unicodedata.normalize("NFD", c) if unicodedata.category(m) != "Mn")
