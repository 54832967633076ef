"""What agents, ops and admins may do, as validated inputs and the one function each that
applies them through `outreach.actions` (which audits). The console's forms and the JSON API
share these, so a rule checked here holds for both."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.actions import campaigns as campaign_actions
from outreach.actions import casework, contacts, holds, money
from outreach.actions.audit import ActionError
from outreach.auth.users import create_user
from outreach.config.campaigns import Campaign
from outreach.db.models import Account, CampaignRow, ContactPoint, Debtor
from outreach.db.users import User


def _blank_is_none(value: Any) -> Any:
    """HTML forms send "" for an empty optional field."""
    return None if value == "" else value


OptionalId = Annotated[int | None, BeforeValidator(_blank_is_none)]
OptionalText = Annotated[str | None, BeforeValidator(_blank_is_none)]
OptionalTime = Annotated[datetime | None, BeforeValidator(_blank_is_none)]
HoldKind = Literal["cease", "attorney", "dispute", "bankruptcy", "deceased"]
Money = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)  # forms carry csrf


class NoteIn(_In):
    body: str = Field(min_length=1, max_length=10_000)
    account_id: OptionalId = None


class CallIn(_In):
    outcome: Literal["attempt", "conversation"]
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
    role: Literal["agent", "ops", "admin"]
    password: str = Field(min_length=10, max_length=1_000)


class NotFound(LookupError):
    """The thing named in the request does not exist (404)."""


def debtor_or_404(session: Session, debtor_id: int) -> Debtor:
    debtor = session.get(Debtor, debtor_id)
    if debtor is None:
        raise NotFound(f"no debtor {debtor_id}")
    return debtor


def _account_of(session: Session, debtor_id: int, account_id: int | None) -> Account | None:
    if account_id is None:
        return None
    account = session.get(Account, account_id)
    if account is None or account.debtor_id != debtor_id:
        raise ActionError(f"account_id: account {account_id} is not this debtor's")
    return account


def add_note(session: Session, now: datetime, actor: str, debtor_id: int, data: NoteIn) -> int:
    _account_of(session, debtor_id, data.account_id)
    return casework.add_note(
        session, now, actor, debtor_id=debtor_id, body=data.body, account_id=data.account_id
    ).id


def record_call(session: Session, now: datetime, actor: str, debtor_id: int, data: CallIn) -> int:
    _account_of(session, debtor_id, data.account_id)
    return casework.record_call(
        session,
        now,
        actor,
        debtor_id=debtor_id,
        account_id=data.account_id,
        at=data.at or now,
        outcome=data.outcome,
        phone=data.phone,
        note=data.note,
    ).id


def set_hold(session: Session, now: datetime, actor: str, debtor_id: int, data: HoldIn) -> int:
    _account_of(session, debtor_id, data.account_id)
    return holds.set_hold(
        session,
        now,
        actor,
        debtor_id=debtor_id,
        kind=data.kind,
        account_id=data.account_id,
        reason=data.reason,
    ).id


def release_hold(
    session: Session, now: datetime, actor: str, debtor_id: int, data: HoldIn
) -> list[int]:
    _account_of(session, debtor_id, data.account_id)
    released = holds.release_holds(
        session,
        now,
        actor,
        debtor_id=debtor_id,
        kind=data.kind,
        account_id=data.account_id,
        reason=data.reason,
    )
    if not released:
        raise ActionError(f"kind: no active {data.kind} hold in that scope")
    return [h.id for h in released]


def record_payment(
    session: Session, now: datetime, actor: str, debtor_id: int, data: PaymentIn
) -> int:
    account = _account_of(session, debtor_id, data.account_id)
    assert account is not None
    return money.record_payment(
        session,
        now,
        actor,
        account=account,
        amount=data.amount,
        paid_at=data.paid_at or now,
        method=data.method,
        reference=data.reference,
    ).id


def record_promise(
    session: Session, now: datetime, actor: str, debtor_id: int, data: PromiseIn
) -> int:
    account = _account_of(session, debtor_id, data.account_id)
    assert account is not None
    return money.record_promise(
        session, now, actor, account=account, amount=data.amount, due_on=data.due_on
    ).id


def set_opt_out(
    session: Session, now: datetime, actor: str, debtor_id: int, data: OptOutIn
) -> bool:
    point = session.get(ContactPoint, data.contact_point_id)
    if point is None or point.debtor_id != debtor_id:
        raise ActionError(f"contact_point_id: {data.contact_point_id} is not this debtor's")
    if point.kind == "address":
        raise ActionError("contact_point_id: a postal address cannot be opted out here")
    return contacts.set_opt_out(
        session, now, actor, point, opted_out=data.opted_out, reason=data.reason
    )


def campaign_row(session: Session, name: str) -> CampaignRow:
    row = session.scalars(select(CampaignRow).where(CampaignRow.name == name)).first()
    if row is None:
        raise NotFound(f"no campaign {name!r}")
    return row


def enroll(
    session: Session,
    now: datetime,
    actor: str,
    campaigns: dict[str, Campaign],
    name: str,
    data: EnrollIn,
) -> int:
    row = campaign_row(session, name)
    campaign = campaigns.get(name)
    if campaign is None:
        raise ActionError(f"campaign {name!r} has no file in config/campaigns any more")
    account = session.scalars(select(Account).where(Account.external_id == data.account)).first()
    if account is None:
        raise ActionError(f"account: no account {data.account!r}")
    return campaign_actions.enroll_account(
        session, now, actor, account=account, campaign=row, first_step_day=campaign.steps[0].day
    ).id


def add_user(session: Session, now: datetime, actor: str, data: UserIn) -> User:
    return create_user(session, now, actor, name=data.name, role=data.role, password=data.password)
