"""Plain rows the check stage reads: frozen values loaded with Core, never ORM instances.

Loading a batch as ORM objects cost more than checking it (identity map, instrumentation,
change tracking nobody uses here). These rows carry only the columns the checks and the
templates read, compare by value (the dispatcher compares a batch read before rendering with
the one read again under the lock) and may cross threads and processes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from outreach.db.models import Account, ContactPoint, Debtor, Enrollment, Hold, Message
from outreach.db.types import Base


@dataclass(frozen=True, slots=True)
class DebtorRow:
    id: int
    first_name: str
    last_name: str
    language: str
    stated_timezone: str | None
    inconvenient_times: list[dict[str, Any]] | None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True, slots=True)
class AccountRow:
    id: int
    debtor_id: int
    external_id: str
    creditor: str
    original_creditor: str | None
    account_number: str
    balance: Decimal
    itemization: dict[str, Any] | None
    due_date: date | None
    days_past_due: int
    state: str | None
    status: str
    time_barred: bool


@dataclass(frozen=True, slots=True)
class PointRow:
    id: int
    debtor_id: int
    kind: str
    value: str
    label: str | None
    address: dict[str, Any] | None
    consent: str
    opted_out_at: datetime | None
    undeliverable_at: datetime | None


@dataclass(frozen=True, slots=True)
class HoldRow:
    id: int
    debtor_id: int
    account_id: int | None
    kind: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EnrollmentRow:
    id: int
    debtor_id: int
    status: str
    stop_reason: str | None


@dataclass(frozen=True, slots=True)
class MessageRow:
    id: int
    debtor_id: int
    account_id: int | None
    enrollment_id: int | None
    campaign: str | None
    step_id: str | None
    channel: str
    kind: str
    template: str
    attempts: int


ROW_MODELS: dict[type[Any], type[Base]] = {
    DebtorRow: Debtor,
    AccountRow: Account,
    PointRow: ContactPoint,
    HoldRow: Hold,
    EnrollmentRow: Enrollment,
    MessageRow: Message,
}

R = TypeVar("R")


def select_rows(cls: type[R]) -> Select[Any]:
    """SELECT of exactly `cls`'s fields from its table, in field order."""
    model = ROW_MODELS[cls]
    columns: list[ColumnElement[Any]] = [getattr(model, f.name) for f in fields(cls)]  # type: ignore[arg-type]
    return select(*columns)


def load_rows(session: Session, cls: type[R], query: Select[Any]) -> Iterator[R]:
    """`query` (built on `select_rows(cls)`) as `cls` values."""
    for row in session.execute(query):
        yield cls(*row)
