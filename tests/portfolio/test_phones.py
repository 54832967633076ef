"""The phone cell's fast path for plain North American numbers gives what the library gives:
the same E.164 form for a valid number, the same reason for an invalid one."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from outreach.portfolio.cells import Invalid
from outreach.portfolio.phones import NanpValidity, phone_parser


def library(value: str, region: str) -> str:
    """What phonenumbers itself says: E.164, or why not."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return "unreadable"
    if not phonenumbers.is_valid_number(number):
        return "invalid"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def ours(value: str, region: str) -> str:
    try:
        return phone_parser(region)(value)
    except Invalid as exc:
        return "unreadable" if "cannot be read" in str(exc) else "invalid"


def test_validity_agrees_with_the_library_on_random_north_american_numbers() -> None:
    valid = NanpValidity()
    rng = random.Random(11)
    numbers = [str(rng.randint(2_000_000_000, 9_999_999_999)) for _ in range(20_000)]
    expected = [
        phonenumbers.is_valid_number(phonenumbers.PhoneNumber(country_code=1, national_number=n))
        for n in map(int, numbers)
    ]
    assert [valid(n) for n in numbers] == expected
    assert 0 < sum(expected) < len(expected)  # both answers were exercised


FORMS = ["{a}{b}{c}", "({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}", "1 {a} {b} {c}", "+1{a}{b}{c}"]
FORMS += ["+1 ({a}) {b}-{c}", "1-{a}-{b}-{c}", "+{a}{b}{c}", "0{a}{b}{c}", "{a}{b}{c} x12"]


@pytest.mark.parametrize("region", ["US", "CA", "GB"])
def test_every_written_form_reads_as_the_library_reads_it(region: str) -> None:
    rng = random.Random(region)
    for _ in range(3_000):
        digits = str(rng.randint(100_000_0000, 999_999_9999))
        value = rng.choice(FORMS).format(a=digits[:3], b=digits[3:6], c=digits[6:])
        assert ours(value, region) == library(value, region), value


def test_the_error_message_is_the_librarys() -> None:
    with pytest.raises(Invalid, match=r"'\*{9}-123' is not a valid phone number \(too short"):
        phone_parser("US")("(208) 345-123")
    with pytest.raises(Invalid, match=r"is not a valid phone number \(no such area code"):
        phone_parser("US")("(111) 345-1234")
