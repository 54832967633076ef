"""Where might the consumer be? Candidate IANA zones from the evidence in a snapshot (F2).

F2 asks for contact only when convenient in *every* candidate zone, so this module errs on
the side of more zones: each piece of evidence adds its zones, none is trusted over another,
except a zone the consumer stated, which replaces everything else.
"""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import us
from phonenumbers import PhoneNumberType
from phonenumbers import timezone as phone_timezone

from outreach.compliance import zip_table
from outreach.compliance.types import DebtorSnapshot

# Used when there is no evidence at all: the window then holds everywhere in the US.
FALLBACK_ZONES: tuple[str, ...] = (
    "America/Anchorage",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/New_York",
    "Pacific/Honolulu",
)

# A phone mapping to more zones than this names a country or a toll-free plan, not a place.
MAX_PHONE_ZONES = 4
# A NANP number in E.164. Its zones depend on its first 7 digits only: phonenumbers' zone
# data for +1 goes 6 digits deep and no validity pattern of a +1 region constrains the last 3
# (tests/compliance/test_timezones.py checks it), so one lookup answers all 1,000 numbers.
_NANP_E164 = re.compile(r"\+1[2-9][0-9]{9}")


def candidate_zones(debtor: DebtorSnapshot, *, region: str = "US") -> tuple[str, ...]:
    """Sorted, unique IANA zones the consumer may be in.

    A stated zone replaces all other evidence. Otherwise: the ZIP's zone (or, without a
    usable ZIP, every zone of the state) plus every phone's zones. `region` is the default
    region for phone numbers not written in E.164. No evidence -> FALLBACK_ZONES.
    """
    if debtor.timezone and is_zone(debtor.timezone):
        return (debtor.timezone,)
    zones: set[str] = set()
    zip_zone = zone_for_zip(debtor.zip) if debtor.zip else None
    if zip_zone is not None:
        zones.add(zip_zone)
    elif debtor.state:
        zones.update(zones_for_state(debtor.state))
    for phone in debtor.phones:
        zones.update(zones_for_phone(phone, region))
    return tuple(sorted(zones)) if zones else FALLBACK_ZONES


@lru_cache(maxsize=1024)
def is_zone(name: str) -> bool:
    """True for a zone name zoneinfo can load (the ZIP data holds a few that are not)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@lru_cache(maxsize=1)
def _zip_index() -> zip_table.ZipTable:
    """ZIP -> (zone, state, county), loaded once from the shipped table (about 10 ms)."""
    return zip_table.load()


def zip_record(zip_code: str) -> tuple[str, str, str] | None:
    """(zone, state, county) of a 5-digit ZIP (ZIP+4 accepted); None when unknown."""
    key = zip_code.strip()[:5]
    return _zip_index().get(key) if len(key) == 5 and key.isdigit() else None


@lru_cache(maxsize=65536)
def zone_for_zip(zip_code: str) -> str | None:
    """The zone of a ZIP; None when unknown or unusable."""
    record = zip_record(zip_code)
    zone = record[0] if record is not None else None
    return zone if zone and is_zone(zone) else None


@lru_cache(maxsize=256)
def zones_for_state(state: str) -> tuple[str, ...]:
    """Every zone of a state or territory (code or name); () when unknown."""
    found = us.states.lookup(state.strip())
    if found is None or not found.time_zones:
        return ()
    return tuple(sorted(z for z in found.time_zones if is_zone(z)))


@lru_cache(maxsize=65536)
def zones_for_phone(phone: str, region: str = "US") -> tuple[str, ...]:
    """A phone's zones by area code and exchange; () when the number is no evidence.

    Invalid numbers give "Etc/Unknown", toll-free ones every zone of the plan: neither says
    where the consumer is, so both give ().
    """
    if phone[9:] != "000" and _NANP_E164.fullmatch(phone):  # ~50 µs saved per new number
        return zones_for_phone(phone[:9] + "000", region)
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return ()
    # One type lookup answers both questions (UNKNOWN: not a valid number); it is the
    # costly part, matching the number against every region of its country code.
    kind = phonenumbers.number_type(number)
    if kind in (PhoneNumberType.UNKNOWN, PhoneNumberType.TOLL_FREE):
        return ()
    zones = [z for z in phone_timezone.time_zones_for_number(number) if z != "Etc/Unknown"]
    if len(zones) > MAX_PHONE_ZONES:
        return ()
    return tuple(sorted(z for z in zones if is_zone(z)))


def preload() -> None:
    """Load the ZIP index now instead of on the first lookup."""
    _zip_index()
