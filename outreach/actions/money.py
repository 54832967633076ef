"""Promises to pay and payments; a payment keeps the promises it covers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outreach.actions.audit import ActionError, add_audited, audit
from outreach.actions.messages import plan_message
from outreach.compliance.local_dates import day_start, local_today
from outreach.db import outbox
from outreach.db.casework import Payment, Promise
from outreach.db.models import Account
from outreach.db.outbox import Transition
from outreach.db.types import MONEY_LIMIT, money_fits
from outreach.vocabulary import DUE_STATES, MessageState


@dataclass(frozen=True)
class FollowUp:
    """The message to plan the day after a promise falls due, if it is not kept."""

    channel: str
    template: str


def record_promise(
    session: Session,
    now: datetime,
    actor: str,
    *,
    account: Account,
    amount: Decimal,
    due_on: date,
    zones: Sequence[str],
    followup: FollowUp | None = None,
    inbound_id: int | None = None,
) -> Promise:
    """A promise to pay `amount` by `due_on`, a date on the consumer's calendar in `zones`
    (their candidate zones). Collection messages for the account pause until then (the
    compliance engine reads open promises); an earlier open promise on the account is
    superseded; `followup` is planned for when the day after `due_on` has begun in every
    zone, so it never reaches the consumer on the due date itself."""
    if amount <= 0:
        raise ActionError("a promise needs an amount above zero")
    _check_fits(amount)
    if due_on < local_today(now, zones):
        raise ActionError(f"promise date {due_on.isoformat()} is in the past")
    for earlier in session.scalars(
        select(Promise).where(Promise.account_id == account.id, Promise.status == "open")
    ):
        _resolve_promise(session, now, actor, earlier, "cancelled", "superseded")
    promise = Promise(
        debtor_id=account.debtor_id,
        account_id=account.id,
        amount=amount,
        due_on=due_on,
        source=actor,
        inbound_id=inbound_id,
        created_at=now,
    )
    detail = {"amount": str(amount), "due_on": due_on.isoformat()}
    add_audited(session, now, actor, "promise.recorded", promise, "promise", detail)
    if followup is not None:
        promise.followup_message_id = plan_message(
            session,
            now,
            debtor_id=account.debtor_id,
            account_id=account.id,
            channel=followup.channel,
            template=followup.template,
            kind="promise_followup",
            step_id=f"promise-{promise.id}",
            due_at=day_start(due_on + timedelta(days=1), zones or ("UTC",)),
            cause=actor,
        )
    return promise


def record_payment(
    session: Session,
    now: datetime,
    actor: str,
    *,
    account: Account,
    amount: Decimal,
    paid_at: datetime,
    method: str = "other",
    reference: str | None = None,
) -> Payment:
    """A payment lowers the balance; paid in full marks the account paid (campaigns with
    `stop_when: paid` then stop); open promises it covers are kept and their follow-ups
    cancelled."""
    if amount <= 0:
        raise ActionError("a payment needs an amount above zero")
    _check_fits(amount)
    if paid_at.tzinfo is None:
        raise ActionError("payment time needs a UTC offset")
    if paid_at > now:
        raise ActionError("payment time is in the future")
    payment = Payment(
        debtor_id=account.debtor_id,
        account_id=account.id,
        amount=amount,
        paid_at=paid_at,
        method=method,
        reference=reference,
        actor=actor,
        created_at=now,
    )
    account.balance = max(Decimal("0.00"), account.balance - amount)
    if account.balance == 0:
        account.status = "paid"
    detail = {"amount": str(amount), "method": method, "balance": str(account.balance)}
    add_audited(session, now, actor, "payment.recorded", payment, "payment", detail)
    for promise in session.scalars(
        select(Promise).where(Promise.account_id == account.id, Promise.status == "open")
    ):
        paid_since = session.scalar(
            select(func.coalesce(func.sum(Payment.amount), 0)).where(
                Payment.account_id == account.id, Payment.created_at >= promise.created_at
            )
        )
        if Decimal(paid_since or 0) >= promise.amount or account.status == "paid":
            _resolve_promise(session, now, actor, promise, "kept", f"payment:{payment.id}")
    return payment


def _check_fits(amount: Decimal) -> None:
    """An amount the money columns store exactly (an SMS reply can name any number)."""
    if not money_fits(amount):
        raise ActionError(f"an amount must be in whole cents and below {MONEY_LIMIT:,}")


def _resolve_promise(
    session: Session, now: datetime, actor: str, promise: Promise, status: str, why: str
) -> None:
    promise.status, promise.resolved_at = status, now
    if promise.followup_message_id is not None:
        outbox.apply(
            session,
            [
                Transition(
                    promise.followup_message_id,
                    None,
                    MessageState.CANCELLED,
                    actor,
                    {"reason": f"promise {status}: {why}"},
                )
            ],
            now,
            only_from=DUE_STATES,
        )
    audit(
        session,
        now,
        actor,
        f"promise.{status}",
        debtor_id=promise.debtor_id,
        account_id=promise.account_id,
        subject=f"promise:{promise.id}",
        detail={"why": why},
    )
