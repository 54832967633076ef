"""compliance.scenario: the shortcuts of the scenario parser give what the library would."""

from __future__ import annotations

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from outreach.compliance.scenario import _phone


@settings(max_examples=500, deadline=None)
@given(st.from_regex(r"\+1[2-9][0-9]{9}", fullmatch=True))
def test_an_e164_nanp_number_is_what_phonenumbers_makes_of_it(number: str) -> None:
    """Such numbers skip phonenumbers.parse: phonenumbers would accept them unchanged."""
    parsed = phonenumbers.parse(number, "US")
    assert phonenumbers.is_possible_number(parsed)
    assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == number
    assert _phone(number) == number


def test_other_forms_still_go_through_phonenumbers() -> None:
    assert _phone("(215) 555-0143") == _phone("215.555.0143") == "+12155550143"
    assert _phone("+44 20 7946 0958") == "+442079460958"
    assert _phone("+1\u0662\u0661\u0665\u0665\u0665\u0665\u0660\u0661\u0664\u0663") == (
        "+12155550143"  # Arabic-Indic digits: not the ASCII shortcut, phonenumbers reads them
    )
