"""ZIP -> (zone, state, county), shipped as a small table built from the `zipcodes` package.

Building the same index from `zipcodes` at run time costs over 2 s of CPU per process (it
materializes 42,000 dicts; a single lookup still loads its whole database, 0.3 s), which every
command that decides a contact paid before its first decision. The table is that index
written once (sorted, tab-separated, gzip): loading it takes about 10 ms (one split, then a
binary search per lookup). A test checks it
still equals what `zipcodes` gives, so it cannot drift from the dependency; regenerate with
`python -m outreach.compliance.zip_table` after upgrading `zipcodes`.
"""

from __future__ import annotations

import gzip
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TABLE = Path(__file__).with_name("zips.tsv.gz")

Record = tuple[str, str, str]  # (IANA zone, state, county); "" when zipcodes has none


def from_zipcodes() -> dict[str, Record]:
    """The index as the `zipcodes` package gives it (slow: the source of the table)."""
    import zipcodes

    rows: list[dict[str, Any]] = zipcodes.list_all()  # type: ignore[no-untyped-call]
    return {
        z["zip_code"]: (z.get("timezone") or "", z.get("state") or "", z.get("county") or "")
        for z in rows
    }


def encode(index: dict[str, Record]) -> bytes:
    text = "".join("\t".join((zip_code, *index[zip_code])) + "\n" for zip_code in sorted(index))
    return gzip.compress(text.encode("utf-8"), 9, mtime=0)


@dataclass(frozen=True, slots=True)
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
        return {z: (zone, state, county) for z, zone, state, county in self._rows()}

    def _rows(self) -> zip[tuple[str, str, str, str]]:
        f = self.fields
        return zip(f[0::4], f[1::4], f[2::4], f[3::4], strict=True)


def load(path: Path = TABLE) -> ZipTable:
    """The shipped table (one decompress and one split: no object per ZIP)."""
    fields = gzip.decompress(path.read_bytes()).decode("utf-8").replace("\n", "\t").split("\t")
    fields.pop()  # after the last newline
    return ZipTable(fields, fields[0::4])


if __name__ == "__main__":
    TABLE.write_bytes(encode(from_zipcodes()))
    print(f"wrote {TABLE}")
