"""The tab-separated tables shipped beside the rules (area codes, ZIP zone overrides)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path


def tsv_rows(path: Path, columns: int) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each row; `#` comments and blank lines are skipped, and a
    row with another number of fields is a ValueError naming the file and the line."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != columns:
            raise ValueError(f"{path.name}:{number}: expected {columns} tab-separated fields")
        yield number, fields
