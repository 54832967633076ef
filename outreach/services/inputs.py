"""The validated inputs of what agents, ops and admins may do. The console's forms and the
JSON API both parse into these models, so both accept (and refuse) exactly the same input."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from outreach.vocabulary import CallOutcome, HoldKind, Role


def _blank_is_none(value: Any) -> Any:
    """HTML forms send "" for an empty optional field."""
    return None if value == "" else value


OptionalId = Annotated[int | None, BeforeValidator(_blank_is_none)]
OptionalText = Annotated[str | None, BeforeValidator(_blank_is_none)]
OptionalTime = Annotated[datetime | None, BeforeValidator(_blank_is_none)]
Money = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)  # forms carry csrf


class NoteIn(_In):
    body: str = Field(min_length=1, max_length=10_000)
    account_id: OptionalId = None


class CallIn(_In):
    outcome: CallOutcome
    at: OptionalTime = Field(default=None, description="when the call was made; default now")
    phone: OptionalText = None
    note: str = Field(default="", max_length=10_000)
    account_id: OptionalId = None


class HoldIn(_In):
    kind: HoldKind
    account_id: OptionalId = Field(default=None, description="none: a hold on the debtor")
    reason: str = Field(default="", max_length=2_000)


class PaymentIn(_In):
    account_id: int
    amount: Money
    method: str = Field(default="other", min_length=1, max_length=32)
    reference: OptionalText = Field(default=None, max_length=100)
    paid_at: OptionalTime = Field(default=None, description="default now")


class PromiseIn(_In):
    account_id: int
    amount: Money
    due_on: date


class OptOutIn(_In):
    contact_point_id: int
    opted_out: bool
    reason: str = Field(default="", max_length=2_000)


class EnrollIn(_In):
    account: str = Field(min_length=1, max_length=64, description="the account's external id")


class UserIn(_In):
    name: str = Field(min_length=2, max_length=64)
    role: Role
    password: str = Field(min_length=10, max_length=1_000)


class ResolveIn(_In):
    sent: bool = Field(description="true: it went out; false: it did not (it stops counting)")
    note: str = Field(default="", max_length=2_000)


class RequeueIn(_In):
    note: str = Field(default="", max_length=2_000)
