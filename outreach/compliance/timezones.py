"""Where might the consumer be? Candidate IANA zones from the evidence in a snapshot (F2).

F2 asks for contact only when convenient in *every* candidate zone, so this module errs on
the side of more zones: each piece of evidence adds its zones, none is trusted over another,
except a zone the consumer stated, which replaces everything else.
"""

from __future__ import annotations

from functools import lru_cache

import us

from outreach.compliance import zip_table
from outreach.compliance.phone_zones import zones_for_phone
from outreach.compliance.types import DebtorSnapshot
from outreach.compliance.window import clock, is_zone

# Used when there is no evidence at all: the window then holds everywhere in the US.
FALLBACK_ZONES: tuple[str, ...] = (
    "America/Anchorage",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/New_York",
    "Pacific/Honolulu",
)
# Names preferred when several zones keep one clock: the zones people know by name.
FALLBACK_RANK: dict[str, int] = {
    zone: rank
    for rank, zone in enumerate(
        (*FALLBACK_ZONES, "America/Phoenix", "America/Adak", "America/Puerto_Rico")
    )
}


def candidate_zones(
    debtor: DebtorSnapshot, *, to: str | None = None, region: str = "US"
) -> tuple[str, ...]:
    """Sorted, unique IANA zones the consumer may be in.

    A stated zone replaces all other evidence. Otherwise: the ZIP's zones (or, without a
    usable ZIP, every zone of the state), the zones of the other addresses' ZIPs, and
    every phone's zones, the phone being called or texted (`to`) among them even when the
    debtor's record does not list it. `region` is the default region for phone numbers not
    written in E.164. No evidence -> FALLBACK_ZONES.
    """
    if debtor.timezone and is_zone(debtor.timezone):
        return (debtor.timezone,)
    zones: set[str] = set()
    zip_zones = zones_for_zip(debtor.zip) if debtor.zip else ()
    if zip_zones:
        zones.update(zip_zones)
    elif debtor.state:
        zones.update(zones_for_state(debtor.state))
    for other in debtor.other_zips:
        zones.update(zones_for_zip(other))
    for phone in debtor.phones:
        zones.update(zones_for_phone(phone, region))
    if to and "@" not in to:
        zones.update(zones_for_phone(to, region))
    return distinct_clocks(frozenset(zones)) if zones else FALLBACK_ZONES


@lru_cache(maxsize=4096)
def distinct_clocks(zones: frozenset[str]) -> tuple[str, ...]:
    """Sorted zones, one per clock: of names that keep the same time (window.clock) the
    best known stays (America/Chicago over America/Indiana/Knox), so a reason names the
    times that differ and each is computed once. Cached: few sets of zones recur."""
    unique = sorted(zones)
    if len(unique) < 2:
        return tuple(unique)
    kept: dict[int, str] = {}
    for zone in sorted(unique, key=lambda z: (z not in FALLBACK_RANK, FALLBACK_RANK.get(z, 0), z)):
        kept.setdefault(clock(zone), zone)
    return tuple(sorted(kept.values()))


@lru_cache(maxsize=1)
def _zip_index() -> zip_table.ZipTable:
    """ZIP -> (zones, state, county), loaded once from the shipped table (about 10 ms)."""
    return zip_table.load()


def zip_record(zip_code: str) -> tuple[str, str, str] | None:
    """(zones, state, county) of a 5-digit ZIP (ZIP+4 accepted); None when unknown."""
    key = zip_code.strip()[:5]
    return _zip_index().get(key) if len(key) == 5 and key.isdigit() else None


@lru_cache(maxsize=65536)
def zones_for_zip(zip_code: str) -> tuple[str, ...]:
    """The zones of a ZIP, from geography (zip_table); () when unknown or unusable."""
    record = zip_record(zip_code)
    zones = record[0].split(",") if record is not None and record[0] else ()
    return tuple(sorted(z for z in zones if is_zone(z)))


@lru_cache(maxsize=256)
def zones_for_state(state: str) -> tuple[str, ...]:
    """Every zone of a state or territory (code or name): the zones kept at its ZIPs.

    From the ZIP table rather than a list per state, so Arizona has the Navajo Nation's
    daylight time (Denver) beside Phoenix, and the two tables cannot disagree. () when
    unknown.
    """
    code = state.strip().upper()
    if len(code) != 2:
        found = us.states.lookup(state.strip())
        code = found.abbr if found is not None else ""
    return tuple(z for z in _zip_index().state_zones.get(code, ()) if is_zone(z))


def preload() -> None:
    """Load the ZIP index now instead of on the first lookup."""
    _zip_index()


__all__ = ["FALLBACK_ZONES", "candidate_zones", "is_zone", "zones_for_phone", "zones_for_zip"]
