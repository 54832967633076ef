"""The bounds of every value a request carries, one definition for the JSON API, the console's
forms and query strings, and the public pages: ids a 64-bit column holds, text PostgreSQL can
store (no NUL character) within its column's length, amounts that fit the money columns, days
and times the calendar code can step past. Out of bounds is a 422 naming the field, before
anything reaches the database, so SQLite and PostgreSQL answer alike.

A text field takes its length from its column where it has one (`length_of(Payment.method)`);
tests/web/test_fields.py checks that every field of every route is bounded.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import AwareDatetime, BeforeValidator, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from sqlalchemy import String
from sqlalchemy.orm import InstrumentedAttribute

from outreach.db.types import MONEY_DIGITS, MONEY_PLACES
from outreach.vocabulary import ID_MAX

T = TypeVar("T")

NO_NUL = r"^[^\x00]*$"


def _blank_is_none(value: Any) -> Any:
    """HTML forms and query strings send "" for an empty optional field."""
    return None if value == "" else value


class _BlankInSchema:
    """The JSON schema of a Blank field says what it takes: its type, null, or ""."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        choices = schema.pop("anyOf", None) if set(schema) == {"anyOf"} else None
        return {"anyOf": [*(choices or [schema]), {"const": ""}]}


def length_of(column: InstrumentedAttribute[Any]) -> int:
    """A String column's length: the longest text it stores (PostgreSQL refuses more)."""
    kind = column.type
    assert isinstance(kind, String) and kind.length is not None, f"{column} has no length"
    return kind.length


# Text PostgreSQL stores: no NUL (pydantic's own str refuses lone surrogates), a pattern rather
# than a validator so that each field's own Field(max_length=...) composes with it in any
# order. Every Text field gives its max_length.
Text = Annotated[str, Field(pattern=NO_NUL)]

Id = Annotated[int, Field(ge=1, le=ID_MAX)]

Blank = Annotated[T | None, BeforeValidator(_blank_is_none), _BlankInSchema()]  # "" is None

_AMOUNT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")  # a minus: refused by gt=0, in its words


def _plain_amount(value: object) -> object:
    """'125.50' (or a JSON number): never '1_000', '1e5' or another script's digits, which
    Decimal would read as 1000, 100000 and 5 without a word."""
    if isinstance(value, str) and not _AMOUNT.fullmatch(value.strip()):
        raise ValueError("an amount is digits with an optional decimal point, e.g. 125.50")
    return value


Money = Annotated[
    Decimal,
    BeforeValidator(_plain_amount),
    Field(gt=0, max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES),
]

# Far enough either way for any real date, near enough that a day or a time zone added to one
# never leaves the calendar (date.max + 1 day is an OverflowError, deep in a page or the engine).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)

Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]

Moment = Annotated[
    AwareDatetime,  # a time without a UTC offset is refused, never guessed
    Field(
        ge=datetime.combine(FIRST_DAY, datetime.min.time(), UTC),
        le=datetime.combine(LAST_DAY, datetime.min.time(), UTC),
    ),
]
