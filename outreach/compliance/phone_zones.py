"""A phone's candidate zones, corrected for area codes that span several local times (F2).

F2 (unclear location; Regulation F, 12 CFR 1006.6(b)(1)(i)) allows contact only when it is
convenient in every zone the consumer may be in. phonenumbers maps each exchange it knows to
that exchange's zone, and every other number to one entry per area code, which names a single
zone even for codes that span two or more: 270 and its overlay 364 say America/New_York though
western Kentucky keeps Central time; 850/448, 812/930 and 928 likewise. For those codes, when
phonenumbers knows only the area code, `area_codes.tsv` gives every zone of the code's area
(NANPA maps, the county lines of 49 CFR part 71 and the provinces' time rules, zone names from
timezone-boundary-builder; the table's header names its sources). An exchange phonenumbers
knows is still its own answer: it is more precise than the whole code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import phonenumbers
from phonenumbers import PhoneNumberType
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

from outreach.compliance.tables import tsv_rows
from outreach.compliance.window import is_zone

TABLE = Path(__file__).with_name("area_codes.tsv")

# A phone mapping to more zones than this names a country or a toll-free plan, not a place.
# It applies to phonenumbers' answer only: a table row names the places of one area code.
MAX_PHONE_ZONES = 4

_NANP = 1
# A NANP number in E.164. Its zones depend on its first 8 digits at most: phonenumbers' zone
# data for +1 goes 7 deep and no validity pattern of a +1 region constrains the last 3
# (tests/compliance/test_timezones.py checks both), so one lookup answers 1,000 numbers.
E164_NANP = re.compile(r"\+1[2-9][0-9]{9}")
_AREA_KEY_LEN = 4  # "1" + the 3-digit area code: phonenumbers' area-level key
_UNKNOWN = ("Etc/Unknown",)


@dataclass(frozen=True, slots=True)
class AreaCode:
    """One row of the table: an area code and every zone of its area."""

    npa: str
    zones: tuple[str, ...]
    region: tuple[str, ...]
    note: str


def load(path: Path = TABLE) -> dict[str, AreaCode]:
    """The table by area code; ValueError names the first malformed line."""
    rows: dict[str, AreaCode] = {}
    for number, (npa, zones, region, note) in tsv_rows(path, 4):
        if len(npa) != 3 or not npa.isdigit() or npa in rows:
            raise ValueError(f"{path.name}:{number}: bad or repeated area code {npa!r}")
        rows[npa] = AreaCode(npa, tuple(zones.split(",")), tuple(region.split(",")), note)
    return rows


@lru_cache(maxsize=1)
def _table() -> dict[str, tuple[str, ...]]:
    """Area code -> its loadable zones, read once (the table is small: about 1 ms)."""
    return {npa: tuple(z for z in row.zones if is_zone(z)) for npa, row in load().items()}


def area_code_zones(npa: str) -> tuple[str, ...] | None:
    """The table's zones for a 3-digit area code; None when the code keeps one time."""
    return _table().get(npa)


def _longest_match(digits: str) -> tuple[str, tuple[str, ...]]:
    """phonenumbers' own lookup: the longest prefix of `digits` in its data, and its zones."""
    for length in range(min(len(digits), TIMEZONE_LONGEST_PREFIX), 0, -1):
        zones = TIMEZONE_DATA.get(digits[:length])
        if zones is not None:
            return digits[:length], zones
    return "", _UNKNOWN


def zones_for_phone(phone: str, region: str = "US") -> tuple[str, ...]:
    """A phone's zones by area code and exchange; () when the number is no evidence.

    Invalid numbers give "Etc/Unknown", toll-free ones every zone of the plan: neither says
    where the consumer is, so both give (). A NANP number whose exchange phonenumbers does
    not know takes its area code's row of the table when there is one. An E.164 NANP
    number is looked up by its first 8 digits (see E164_NANP): one lookup, about 50 µs,
    answers a thousand numbers, and new numbers do not crowd the cache.
    """
    if E164_NANP.fullmatch(phone):
        return _zones(phone[:9] + "000", region)
    return _zones(phone, region)


@lru_cache(maxsize=65536)
def _zones(phone: str, region: str) -> tuple[str, ...]:
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return ()
    # One type lookup answers every question (UNKNOWN: not a valid number); it is the costly
    # part, matching the number against every region of its country code.
    kind = phonenumbers.number_type(number)
    if kind in (PhoneNumberType.UNKNOWN, PhoneNumberType.TOLL_FREE):
        return ()
    code = number.country_code or 0  # always set by parse
    if phonenumbers.is_number_type_geographical(kind, code):
        digits = f"{code}{phonenumbers.national_significant_number(number)}"
        key, zones = _longest_match(digits)
        if code == _NANP and len(key) <= _AREA_KEY_LEN:
            table = _table().get(digits[1:_AREA_KEY_LEN])
            if table is not None:
                return table
    else:  # as phonenumbers does for mobile numbers of countries that do not geolocate them
        zones = _longest_match(str(code))[1]
    known = [z for z in zones if z != _UNKNOWN[0]]
    if len(known) > MAX_PHONE_ZONES:
        return ()
    return tuple(sorted(z for z in known if is_zone(z)))
