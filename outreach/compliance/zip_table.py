"""ZIP -> (zones, state, county), shipped as a small table built from geography.

The zones come from where the ZIP is, not from a label: `zipcodes` gives each ZIP one
zone, wrong for some (Page and Flagstaff, Arizona, as Denver; Tuba City, in the Navajo
Nation, as Phoenix; West Wendover, Nevada, as Pacific) and blind to a ZIP whose area
straddles a zone line. So `build` takes the ZIP's point from `zipcodes` and asks
`timezonefinder` (offline, the timezone-boundary-builder polygons, which follow the
county lines of 49 CFR part 71 and the Navajo Nation's daylight time) for the zone at the
point and at points MARGIN_KM around it: every zone within the margin is a candidate,
the point's own first. A ZIP's area is not in the data, and a rural ZIP near a zone
line reaches 15 km from its point; F2 asks for every likely zone, so the margin errs wide.
Then `zone_overrides.tsv` replaces the zones of ZIPs the polygons do not settle
(unofficial local time, enclaves). Military ZIPs (APO/FPO) name a post office, not where
the consumer is: they get no zone.

Geography and `zipcodes` cost seconds per process, so the result is written once (sorted,
tab-separated, gzip) and loading it takes about 10 ms (one split, then a binary search
per lookup). A test rebuilds it and compares, so it cannot drift from its sources;
regenerate with `python -m outreach.compliance.zip_table` (needs the `dev` extra).
"""

from __future__ import annotations

import gzip
import math
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from outreach.compliance.tables import tsv_rows

TABLE = Path(__file__).with_name("zips.tsv.gz")
OVERRIDES = Path(__file__).with_name("zone_overrides.tsv")
ZONE_TAB = Path("/usr/share/zoneinfo/zone.tab")  # the IANA zone -> country list

MARGIN_KM = 15.0
_BEARINGS = 8  # points on each of two rings, at MARGIN_KM / 2 and MARGIN_KM
_KM_PER_DEGREE = 111.2
# Zones a US address can be in: the states' and the territories' (zone.tab's countries).
# A point across the border (Windsor from Detroit) says nothing about a US address.
US_COUNTRIES = frozenset({"US", "PR", "VI", "GU", "AS", "MP", "UM", "FM", "MH", "PW"})

Record = tuple[str, str, str]  # (zones joined by ",", the point's first; state; county)


@dataclass(frozen=True, slots=True)
class Override:
    zip: str
    zones: tuple[str, ...]
    note: str


def overrides(path: Path = OVERRIDES) -> dict[str, Override]:
    """The override table: ZIP -> zones that replace geography's, with why."""
    found: dict[str, Override] = {}
    for _, (zip_code, zones, note) in tsv_rows(path, 3):
        found[zip_code] = Override(zip_code, tuple(zones.split(",")), note)
    return found


def build() -> dict[str, Record]:
    """The index from its sources (slow, seconds: the source of the shipped table)."""
    import zipcodes
    from timezonefinder import TimezoneFinder

    finder = TimezoneFinder()
    countries = _zone_countries()
    fixed = overrides()

    def zones_near(lat: float, lng: float) -> list[str]:
        found: list[str] = []
        for y, x in _around(lat, lng):
            zone = finder.timezone_at(lng=x, lat=y)
            if zone and countries.get(zone) in US_COUNTRIES and zone not in found:
                found.append(zone)
        return found[:1] + sorted(found[1:])

    rows: list[dict[str, Any]] = zipcodes.list_all()  # type: ignore[no-untyped-call]
    index: dict[str, Record] = {}
    for z in rows:
        zip_code, state, county = z["zip_code"], z.get("state") or "", z.get("county") or ""
        if zip_code in fixed:
            zones = list(fixed[zip_code].zones)
        elif z.get("zip_code_type") == "MILITARY":
            zones = []
        else:
            lat, lng = float(z["lat"] or 0), float(z["long"] or 0)
            zones = zones_near(lat, lng) if (lat, lng) != (0.0, 0.0) else []
            if not zones and z.get("timezone"):
                zones = [z["timezone"]]  # no land polygon at the point: keep the label
        index[zip_code] = (",".join(zones), state, county)
    return index


def _around(lat: float, lng: float) -> Iterator[tuple[float, float]]:
    """The point, then two rings of points around it (flat-earth offsets suffice at 15 km)."""
    yield lat, lng
    for ring in (MARGIN_KM / 2, MARGIN_KM):
        for k in range(_BEARINGS):
            angle = 2 * math.pi * k / _BEARINGS
            dlat = ring * math.cos(angle) / _KM_PER_DEGREE
            dlng = ring * math.sin(angle) / (_KM_PER_DEGREE * math.cos(math.radians(lat)))
            yield lat + dlat, lng + dlng


def _zone_countries() -> dict[str, str]:
    """IANA zone -> ISO country, from the system's zone.tab."""
    out: dict[str, str] = {}
    for line in ZONE_TAB.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            fields = line.split("\t")
            out[fields[2]] = fields[0]
    return out


def encode(index: dict[str, Record]) -> bytes:
    text = "".join("\t".join((zip_code, *index[zip_code])) + "\n" for zip_code in sorted(index))
    return gzip.compress(text.encode("utf-8"), 9, mtime=0)


@dataclass(frozen=True)
class ZipTable:
    """The table's fields in one flat list, 4 per ZIP in ZIP order, and the ZIPs to bisect."""

    fields: list[str]
    zips: list[str]

    def get(self, zip_code: str) -> Record | None:
        i = bisect_left(self.zips, zip_code)
        if i == len(self.zips) or self.zips[i] != zip_code:
            return None
        return (self.fields[4 * i + 1], self.fields[4 * i + 2], self.fields[4 * i + 3])

    def as_dict(self) -> dict[str, Record]:
        return {z: (zones, state, county) for z, zones, state, county in self._rows()}

    @cached_property
    def state_zones(self) -> dict[str, tuple[str, ...]]:
        """State -> the zones at its ZIPs' points (not the margins: those reach neighbours)."""
        found: dict[str, set[str]] = {}
        for _, zones, state, _ in self._rows():
            if zones:
                found.setdefault(state, set()).add(zones.split(",", 1)[0])
        return {state: tuple(sorted(zones)) for state, zones in found.items()}

    def _rows(self) -> zip[tuple[str, str, str, str]]:
        f = self.fields
        return zip(f[0::4], f[1::4], f[2::4], f[3::4], strict=True)


def load(path: Path = TABLE) -> ZipTable:
    """The shipped table (one decompress and one split: no object per ZIP)."""
    fields = gzip.decompress(path.read_bytes()).decode("utf-8").replace("\n", "\t").split("\t")
    fields.pop()  # after the last newline
    return ZipTable(fields, fields[0::4])


if __name__ == "__main__":
    TABLE.write_bytes(encode(build()))
    print(f"wrote {TABLE}")
