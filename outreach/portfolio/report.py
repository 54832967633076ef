"""What an import reports: file-level errors, per-row errors with their line, counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class ImportFileError(Exception):
    """The file as a whole cannot be imported; nothing was written."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RowError:
    line: int  # physical line where the row starts (1 = header)
    field: str  # column name, or "row" for the shape of the row
    reason: str
    external_id: str | None = None  # the row's debtor_id/account_id, when readable

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ImportReport:
    """Counts are per data row: rows = created + updated + unchanged + rejected rows."""

    rows: int
    created: int  # the row's account was new
    updated: int  # something stored changed or was added
    unchanged: int
    rejected: list[RowError] = field(default_factory=list)  # one per bad field

    @property
    def rejected_rows(self) -> int:
        return len({e.line for e in self.rejected})
