"""An agent's actions on a debtor's record (notes, calls, holds, money, opt-outs), each in
its own transaction through `outreach.actions` (which audits). `DEBTOR_ACTIONS` lists
them once, so the console's forms and the API's calls are the same set with the same
checks: the debtor must exist and an account or contact named must be the debtor's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy.orm import Session

from outreach.actions import casework, contacts, holds, money
from outreach.actions.audit import ActionError
from outreach.db.models import Account, ContactPoint, Debtor
from outreach.pipeline.snapshot import debtor_zones
from outreach.services.contract import Acting, Outcome, found
from outreach.services.inputs import CallIn, HoldIn, NoteIn, OptOutIn, PaymentIn, PromiseIn

In = TypeVar("In", bound=BaseModel)


def find_debtor(session: Session, debtor_id: int) -> Debtor:
    return found(session, Debtor, debtor_id, "debtor")


def _own_account(session: Session, debtor_id: int, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None or account.debtor_id != debtor_id:
        raise ActionError(f"account_id: account {account_id} is not this debtor's")
    return account


def _account_of(session: Session, debtor_id: int, account_id: int | None) -> Account | None:
    return None if account_id is None else _own_account(session, debtor_id, account_id)


def _add_note(session: Session, by: Acting, debtor_id: int, data: NoteIn) -> Outcome:
    _account_of(session, debtor_id, data.account_id)
    note = casework.add_note(
        session, by.now, by.actor, debtor_id=debtor_id, body=data.body, account_id=data.account_id
    )
    return Outcome(id=note.id)


def _record_call(session: Session, by: Acting, debtor_id: int, data: CallIn) -> Outcome:
    _account_of(session, debtor_id, data.account_id)
    call = casework.record_call(
        session,
        by.now,
        by.actor,
        debtor_id=debtor_id,
        account_id=data.account_id,
        at=data.at or by.now,
        outcome=data.outcome,
        phone=data.phone,
        note=data.note,
    )
    return Outcome(id=call.id)


def _set_hold(session: Session, by: Acting, debtor_id: int, data: HoldIn) -> Outcome:
    _account_of(session, debtor_id, data.account_id)
    hold = holds.set_hold(
        session,
        by.now,
        by.actor,
        debtor_id=debtor_id,
        kind=data.kind,
        account_id=data.account_id,
        reason=data.reason,
    )
    return Outcome(id=hold.id)


def _release_hold(session: Session, by: Acting, debtor_id: int, data: HoldIn) -> Outcome:
    _account_of(session, debtor_id, data.account_id)
    released = holds.release_holds(
        session,
        by.now,
        by.actor,
        debtor_id=debtor_id,
        kind=data.kind,
        account_id=data.account_id,
        reason=data.reason,
    )
    if not released:
        raise ActionError(f"kind: no active {data.kind} hold in that scope")
    return Outcome()


def _record_payment(session: Session, by: Acting, debtor_id: int, data: PaymentIn) -> Outcome:
    payment = money.record_payment(
        session,
        by.now,
        by.actor,
        account=_own_account(session, debtor_id, data.account_id),
        amount=data.amount,
        paid_at=data.paid_at or by.now,
        method=data.method,
        reference=data.reference,
    )
    return Outcome(id=payment.id)


def _record_promise(session: Session, by: Acting, debtor_id: int, data: PromiseIn) -> Outcome:
    promise = money.record_promise(
        session,
        by.now,
        by.actor,
        account=_own_account(session, debtor_id, data.account_id),
        amount=data.amount,
        due_on=data.due_on,
        zones=debtor_zones(session, debtor_id),
    )
    return Outcome(id=promise.id)


def _set_opt_out(session: Session, by: Acting, debtor_id: int, data: OptOutIn) -> Outcome:
    point = session.get(ContactPoint, data.contact_point_id)
    if point is None or point.debtor_id != debtor_id:
        raise ActionError(f"contact_point_id: {data.contact_point_id} is not this debtor's")
    if point.kind == "address":
        raise ActionError("contact_point_id: a postal address cannot be opted out here")
    changed = contacts.set_opt_out(
        session, by.now, by.actor, point, opted_out=data.opted_out, reason=data.reason
    )
    return Outcome(changed=changed)


@dataclass(frozen=True)
class DebtorAction(Generic[In]):
    """One thing an agent does to a debtor's record, with the input it takes."""

    slug: str  # the last part of its address: /debtors/{debtor_id}/<slug>
    model: type[In]
    step: Callable[[Session, Acting, int, In], Outcome]
    doc: str

    @property
    def name(self) -> str:
        """An identifier for it, e.g. debtor_holds_release (the routes' function name)."""
        return "debtor_" + self.slug.replace("/", "_").replace("-", "_")


DEBTOR_ACTIONS: tuple[DebtorAction[Any], ...] = (
    DebtorAction("notes", NoteIn, _add_note, "Add a note."),
    DebtorAction("calls", CallIn, _record_call, "Record a call attempt or talk."),
    DebtorAction("holds", HoldIn, _set_hold, "Set a hold (idempotent)."),
    DebtorAction("holds/release", HoldIn, _release_hold, "Release holds."),
    DebtorAction("payments", PaymentIn, _record_payment, "Record a payment."),
    DebtorAction("promises", PromiseIn, _record_promise, "Record a promise."),
    DebtorAction("opt-out", OptOutIn, _set_opt_out, "Opt a contact out or in."),
)


def act_on_debtor(
    session: Session, by: Acting, debtor_id: int, action: DebtorAction[In], data: In
) -> Outcome:
    """Apply `action` to debtor `debtor_id` in one transaction (NotFound, ActionError)."""
    with session.begin():
        find_debtor(session, debtor_id)
        return action.step(session, by, debtor_id, data)
