"""Phone cells: any format `phonenumbers` reads, stored as E.164.

Plainly written North American numbers ("(208) 345-1234", "+1 208 345 1234", "208.345.1234")
are most of a US portfolio and the costliest cell to check (`parse` plus `is_valid_number`,
about 25 us, over half a row's parsing). Their reading is fixed, so they skip `parse`, and
`NanpValidity` answers `is_valid_number` from the library's own metadata with the patterns
compiled once (tests compare it with the library on random numbers). Everything else, and every
error message, comes from the library; a rejected number is shown masked to its last 4 characters,
like every contact value outreach prints.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import phonenumbers
from phonenumbers import PhoneMetadata
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from outreach.masking import mask
from outreach.portfolio.cells import Invalid

_PUNCTUATION = str.maketrans("", "", " ()-.")


_Desc = tuple[frozenset[int], re.Pattern[str]]


def _desc(desc: object) -> _Desc | None:
    pattern = getattr(desc, "national_number_pattern", None)
    if not pattern:
        return None
    return frozenset(getattr(desc, "possible_length", ()) or ()), re.compile(pattern)


class NanpValidity:
    """`phonenumbers.is_valid_number` for country code 1, its patterns compiled once.

    The library picks the number's region (the first of the code's regions whose leading
    digits match, or, without leading digits, whose patterns know the number), then asks
    whether the region's patterns know it: the general pattern and any one number type.
    """

    def __init__(self) -> None:
        self.regions: list[tuple[re.Pattern[str] | None, _Desc | None, list[_Desc]]] = []
        for code in COUNTRY_CODE_TO_REGION_CODE[1]:
            md = PhoneMetadata.metadata_for_region(code, None)
            if md is None:
                continue
            kinds = (
                md.fixed_line,
                md.mobile,
                md.premium_rate,
                md.toll_free,
                md.shared_cost,
                md.voip,
                md.personal_number,
                md.pager,
                md.uan,
                md.voicemail,
            )
            lead = re.compile(md.leading_digits) if md.leading_digits is not None else None
            descs = [d for d in map(_desc, kinds) if d is not None]
            self.regions.append((lead, _desc(md.general_desc), descs))

    @staticmethod
    def _matches(nsn: str, desc: _Desc | None) -> bool:
        if desc is None:
            return False
        lengths, pattern = desc
        if lengths and len(nsn) not in lengths:
            return False
        return pattern.fullmatch(nsn) is not None

    def _known(self, nsn: str, general: _Desc | None, descs: list[_Desc]) -> bool:
        return self._matches(nsn, general) and any(self._matches(nsn, d) for d in descs)

    def __call__(self, nsn: str) -> bool:
        for lead, general, descs in self.regions:
            if lead is not None:
                if lead.match(nsn):
                    return self._known(nsn, general, descs)
            elif self._known(nsn, general, descs):
                return True
        return False


def nanp_digits(value: str) -> str | None:
    """The ten digits of a plainly written North American number, or None (ask the library).

    Only forms `phonenumbers.parse` reads one way in a +1 region: ten digits not starting
    with 0 or 1, optionally after a 1 or +1, separated by spaces, parentheses, dashes, dots.
    """
    plus = value.startswith("+")
    digits = (value[1:] if plus else value).translate(_PUNCTUATION)
    if not digits.isascii() or not digits.isdigit():
        return None
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    elif len(digits) != 10 or plus:
        return None
    return digits if digits[0] in "23456789" else None


def phone_parser(region: str) -> Callable[[str], str]:
    """A cell parser: the number's E.164 form, or `Invalid` with the library's reason."""
    valid_nanp = NanpValidity() if phonenumbers.country_code_for_region(region) == 1 else None

    def library(value: str) -> str:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException as exc:
            raise Invalid(f"{mask(value)!r} cannot be read as a phone number: {exc._msg}") from None
        if not phonenumbers.is_valid_number(number):
            reason = phonenumbers.is_possible_number_with_reason(number)
            why = {
                phonenumbers.ValidationResult.TOO_SHORT: "too short",
                phonenumbers.ValidationResult.TOO_LONG: "too long",
                phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
            }.get(reason, "no such area code or exchange")
            raise Invalid(f"{mask(value)!r} is not a valid phone number ({why})")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def parse(value: str) -> str:
        if valid_nanp is not None:
            digits = nanp_digits(value)
            if digits is not None and valid_nanp(digits):
                return f"+1{digits}"
        return library(value)

    return parse
