"""The declarative base and column types shared by every table (UTC-aware datetimes on SQLite and
PostgreSQL, 64-bit ids)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Integer,
    Numeric,
    Table,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from outreach.clock import as_utc


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on SQLite (which drops offsets) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return as_utc(value) if dialect.name != "sqlite" else as_utc(value).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return as_utc(value) if value is not None else None


# A portable auto-increment big integer (SQLite only auto-increments INTEGER PRIMARY KEY).
BigId = BigInteger().with_variant(Integer(), "sqlite")


# Every amount of money: Numeric(MONEY_DIGITS, MONEY_PLACES), whole cents below MONEY_LIMIT.
MONEY_DIGITS, MONEY_PLACES = 12, 2
MONEY_LIMIT = Decimal(10) ** (MONEY_DIGITS - MONEY_PLACES)
_CENT = Decimal(1).scaleb(-MONEY_PLACES)


def money_column() -> Numeric[Decimal]:
    return Numeric(MONEY_DIGITS, MONEY_PLACES)


def money_fits(amount: Decimal) -> bool:
    """Whether an amount column stores `amount` exactly: finite, whole cents, below
    MONEY_LIMIT (PostgreSQL refuses more digits, SQLite would lose them)."""
    return amount.is_finite() and abs(amount) < MONEY_LIMIT and amount == amount.quantize(_CENT)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


def table_of(model: type[Base]) -> Table:
    """A mapped class's Table, for Core statements (the ORM types `__table__` loosely)."""
    return cast(Table, model.__table__)
