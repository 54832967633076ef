"""What people and replies do to a debtor's record: holds, opt-outs, calls, promises,
payments, notes, tasks, inconvenient times.

Agents (web, API, CLI), SMS replies and the system all go through these functions, so each
change is written together with its audit event in the caller's transaction: the audit
trail and the timeline can never disagree with the data. No commits here; the caller owns
the transaction. `actor` names who acted: "agent:alice", "debtor:sms", "system".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from outreach import outbox
from outreach.models import (
    DUE_STATES,
    Account,
    AuditEvent,
    Call,
    CampaignRow,
    ContactPoint,
    Debtor,
    Enrollment,
    Hold,
    InboundMessage,
    Message,
    MessageState,
    Note,
    Payment,
    Promise,
    Task,
)
from outreach.outbox import Transition

HOLD_KINDS = ("cease", "attorney", "dispute", "bankruptcy", "deceased")
CALL_OUTCOMES = ("attempt", "conversation")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ActionError(ValueError):
    """The action cannot be done as asked (bad value, unknown kind); nothing was written."""


def audit(
    session: Session,
    now: datetime,
    actor: str,
    action: str,
    *,
    debtor_id: int | None = None,
    account_id: int | None = None,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=now,
        actor=actor,
        action=action,
        debtor_id=debtor_id,
        account_id=account_id,
        subject=subject,
        detail=detail or {},
    )
    session.add(event)
    return event


class _Owned(Protocol):
    """A row that belongs to a debtor (and maybe an account): what an audit event names."""

    @property
    def id(self) -> int: ...
    @property
    def debtor_id(self) -> int | None: ...
    @property
    def account_id(self) -> int | None: ...


R = TypeVar("R", bound=_Owned)


def _add_audited(
    session: Session,
    now: datetime,
    actor: str,
    action: str,
    row: R,
    subject: str,
    detail: dict[str, Any] | None = None,
) -> R:
    """Insert `row` and its audit event ("SUBJECT:ID"), naming the row's debtor and account."""
    session.add(row)
    session.flush()
    audit(
        session,
        now,
        actor,
        action,
        debtor_id=row.debtor_id,
        account_id=row.account_id,
        subject=f"{subject}:{row.id}",
        detail=detail,
    )
    return row


# --- holds ----------------------------------------------------------------------------------


def set_hold(
    session: Session,
    now: datetime,
    actor: str,
    *,
    debtor_id: int,
    kind: str,
    account_id: int | None = None,
    reason: str = "",
) -> Hold:
    """Place a hold (idempotent: an active hold of the same kind and scope is returned)."""
    if kind not in HOLD_KINDS:
        raise ActionError(f"hold kind must be one of {', '.join(HOLD_KINDS)}, not {kind!r}")
    existing = session.scalars(_active_holds(debtor_id, kind, account_id)).first()
    if existing is not None:
        return existing
    hold = Hold(
        debtor_id=debtor_id,
        account_id=account_id,
        kind=kind,
        reason=reason,
        source=actor,
        created_at=now,
    )
    return _add_audited(
        session, now, actor, "hold.set", hold, "hold", {"kind": kind, "reason": reason}
    )


def release_holds(
    session: Session,
    now: datetime,
    actor: str,
    *,
    debtor_id: int,
    kind: str,
    account_id: int | None = None,
    reason: str = "",
) -> list[Hold]:
    """Lift the active holds of `kind` in that scope. For a dispute, `reason` should say
    which verification was sent (F17). Returns the holds lifted ([] if there were none)."""
    holds = list(session.scalars(_active_holds(debtor_id, kind, account_id)))
    for hold in holds:
        hold.released_at = now
        hold.release_reason = reason
        audit(
            session,
            now,
            actor,
            "hold.released",
            debtor_id=debtor_id,
            account_id=account_id,
            subject=f"hold:{hold.id}",
            detail={"kind": kind, "reason": reason},
        )
    return holds


def _active_holds(debtor_id: int, kind: str, account_id: int | None) -> Select[Hold]:
    """Unreleased holds of `kind` on the debtor (account_id None) or on one account."""
    scope = Hold.account_id.is_(None) if account_id is None else Hold.account_id == account_id
    return select(Hold).where(
        Hold.debtor_id == debtor_id, Hold.kind == kind, scope, Hold.released_at.is_(None)
    )


# --- contact points -------------------------------------------------------------------------


def set_opt_out(
    session: Session,
    now: datetime,
    actor: str,
    point: ContactPoint,
    *,
    opted_out: bool,
    reason: str = "",
) -> bool:
    """Opt a phone or email out (F7) or back in. Returns False when nothing changed."""
    if opted_out == (point.opted_out_at is not None):
        return False
    if opted_out:
        point.opted_out_at = now
        point.consent = "revoked"
    else:
        point.opted_out_at = None
        point.consent = "granted"
    audit(
        session,
        now,
        actor,
        "contact.opt_out" if opted_out else "contact.opt_in",
        debtor_id=point.debtor_id,
        subject=f"contact_point:{point.id}",
        detail={"kind": point.kind, "value": point.value, "reason": reason},
    )
    return True


def mark_undeliverable(
    session: Session, now: datetime, actor: str, point: ContactPoint, *, reason: str
) -> bool:
    """A hard bounce or a dead number: stop using the address. False if already marked."""
    if point.undeliverable_at is not None:
        return False
    point.undeliverable_at = now
    audit(
        session,
        now,
        actor,
        "contact.undeliverable",
        debtor_id=point.debtor_id,
        subject=f"contact_point:{point.id}",
        detail={"kind": point.kind, "value": point.value, "reason": reason},
    )
    return True


# --- calls, notes, tasks --------------------------------------------------------------------


def record_call(
    session: Session,
    now: datetime,
    actor: str,
    *,
    debtor_id: int,
    account_id: int | None,
    at: datetime,
    outcome: str,
    phone: str | None = None,
    note: str = "",
) -> Call:
    """A call attempt or a conversation (F8 counts them per account)."""
    if outcome not in CALL_OUTCOMES:
        raise ActionError(f"call outcome must be attempt or conversation, not {outcome!r}")
    if at.tzinfo is None:
        raise ActionError("call time needs a UTC offset")
    if at > now:
        raise ActionError("call time is in the future")
    call = Call(
        debtor_id=debtor_id,
        account_id=account_id,
        at=at,
        outcome=outcome,
        phone=phone,
        note=note,
        actor=actor,
        created_at=now,
    )
    detail = {"at": at.isoformat(), "phone": phone, "note": note}
    return _add_audited(session, now, actor, f"call.{outcome}", call, "call", detail)


def add_note(
    session: Session,
    now: datetime,
    actor: str,
    *,
    debtor_id: int,
    body: str,
    account_id: int | None = None,
) -> Note:
    body = body.strip()
    if not body:
        raise ActionError("a note needs some text")
    note = Note(debtor_id=debtor_id, account_id=account_id, author=actor, body=body, created_at=now)
    return _add_audited(session, now, actor, "note.added", note, "note")


def create_task(
    session: Session,
    now: datetime,
    actor: str,
    *,
    kind: str,
    summary: str,
    debtor_id: int | None = None,
    account_id: int | None = None,
    inbound_id: int | None = None,
) -> Task:
    task = Task(
        debtor_id=debtor_id,
        account_id=account_id,
        inbound_id=inbound_id,
        kind=kind,
        summary=summary,
        created_at=now,
    )
    detail = {"kind": kind, "summary": summary}
    return _add_audited(session, now, actor, "task.created", task, "task", detail)


def close_task(session: Session, now: datetime, actor: str, task: Task) -> bool:
    if task.status == "done":
        return False
    task.status, task.done_at, task.done_by = "done", now, actor
    audit(
        session,
        now,
        actor,
        "task.done",
        debtor_id=task.debtor_id,
        account_id=task.account_id,
        subject=f"task:{task.id}",
    )
    return True


# --- promises and payments ------------------------------------------------------------------


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
    followup: FollowUp | None = None,
    inbound_id: int | None = None,
) -> Promise:
    """A promise to pay `amount` by `due_on`. Collection messages for the account pause
    until then (the compliance engine reads open promises); an earlier open promise on the
    account is superseded; `followup` is planned for the day after `due_on`."""
    if amount <= 0:
        raise ActionError("a promise needs an amount above zero")
    if due_on < now.date():
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
    _add_audited(session, now, actor, "promise.recorded", promise, "promise", detail)
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
            due_at=datetime.combine(
                date.fromordinal(due_on.toordinal() + 1), time(0), tzinfo=now.tzinfo
            ),
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
    _add_audited(session, now, actor, "payment.recorded", payment, "payment", detail)
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


def plan_message(
    session: Session,
    now: datetime,
    *,
    debtor_id: int,
    account_id: int | None,
    channel: str,
    template: str,
    kind: str,
    step_id: str,
    due_at: datetime,
    cause: str,
) -> int:
    """Plan one message outside any campaign; the dispatcher checks and sends it like any
    other (compliance included). Returns its id."""
    message = Message(
        debtor_id=debtor_id,
        account_id=account_id,
        channel=channel,
        kind=kind,
        template=template,
        step_id=step_id,
        state=MessageState.PLANNED,
        due_at=due_at,
        created_at=now,
        updated_at=now,
    )
    session.add(message)
    session.flush()
    outbox.record_events(
        session,
        [Transition(message.id, None, MessageState.PLANNED, cause, {"reason": step_id})],
        now,
    )
    return message.id


# --- consumer-stated inconvenient times (F3) ------------------------------------------------


def add_inconvenient_time(
    session: Session,
    now: datetime,
    actor: str,
    debtor: Debtor,
    *,
    start: str,
    end: str,
    days: Sequence[str] | None = None,
    channel: str | None = None,
) -> dict[str, Any]:
    """Record "not between START and END [on DAYS] [by CHANNEL]" in the debtor's local time."""
    for label, value in (("start", start), ("end", end)):
        try:
            time.fromisoformat(value)
        except ValueError:
            raise ActionError(f"{label} must be HH:MM, not {value!r}") from None
    if start == end:
        raise ActionError("start and end must differ")
    if days is not None:
        bad = [d for d in days if d not in WEEKDAYS]
        if bad or not days:
            raise ActionError(f"days must be some of {', '.join(WEEKDAYS)}")
    entry = {
        "start": start,
        "end": end,
        "days": list(days) if days is not None else None,
        "channel": channel,
        "source": actor,
        "created_at": now.isoformat(),
    }
    debtor.inconvenient_times = [*debtor.inconvenient_times, entry]
    audit(
        session,
        now,
        actor,
        "inconvenient_time.added",
        debtor_id=debtor.id,
        detail={k: entry[k] for k in ("start", "end", "days", "channel")},
    )
    return entry


def remove_inconvenient_time(
    session: Session, now: datetime, actor: str, debtor: Debtor, index: int
) -> dict[str, Any]:
    """Withdraw one stated inconvenient time (by its position in the list)."""
    times = list(debtor.inconvenient_times)
    if not 0 <= index < len(times):
        raise ActionError(f"no inconvenient time #{index}")
    removed = times.pop(index)
    debtor.inconvenient_times = times
    audit(
        session,
        now,
        actor,
        "inconvenient_time.removed",
        debtor_id=debtor.id,
        detail={k: removed.get(k) for k in ("start", "end", "days", "channel")},
    )
    return removed


# --- the inbox and campaigns (agent console) ------------------------------------------------


def mark_inbound_handled(
    session: Session, now: datetime, actor: str, inbound: InboundMessage
) -> bool:
    """An agent dealt with a reply: it leaves the inbox, with its open tasks. False if it
    was already handled."""
    if inbound.handled_at is not None:
        return False
    inbound.needs_agent = False
    inbound.handled_at, inbound.handled_by = now, actor
    audit(
        session,
        now,
        actor,
        "inbound.handled",
        debtor_id=inbound.debtor_id,
        account_id=inbound.account_id,
        subject=f"inbound:{inbound.id}",
    )
    for task in session.scalars(
        select(Task).where(Task.inbound_id == inbound.id, Task.status == "open")
    ):
        close_task(session, now, actor, task)
    return True


CAMPAIGN_STATUSES = ("active", "paused")


def set_campaign_status(
    session: Session, now: datetime, actor: str, campaign: CampaignRow, status: str
) -> bool:
    """Pause or resume a campaign (paused: nothing of it is claimed or newly enrolled)."""
    if status not in CAMPAIGN_STATUSES:
        raise ActionError(f"campaign status must be active or paused, not {status!r}")
    if campaign.status == status:
        return False
    campaign.status, campaign.updated_at = status, now
    audit(
        session,
        now,
        actor,
        "campaign.paused" if status == "paused" else "campaign.resumed",
        subject=f"campaign:{campaign.name}",
    )
    return True


def enroll_account(
    session: Session,
    now: datetime,
    actor: str,
    *,
    account: Account,
    campaign: CampaignRow,
    first_step_day: int,
) -> Enrollment:
    """Enroll one account in a campaign by hand; the planner plans its steps from now on."""
    if account.status != "open":
        raise ActionError(f"account {account.external_id} is {account.status}, not open")
    exists = session.scalars(
        select(Enrollment).where(
            Enrollment.account_id == account.id, Enrollment.campaign_id == campaign.id
        )
    ).first()
    if exists is not None:
        raise ActionError(f"account {account.external_id} is already in campaign {campaign.name}")
    enrollment = Enrollment(
        campaign_id=campaign.id,
        debtor_id=account.debtor_id,
        account_id=account.id,
        enrolled_at=now,
        status="active",
        next_step=0,
        next_due_at=now + timedelta(days=first_step_day),
    )
    detail = {"campaign": campaign.name}
    return _add_audited(session, now, actor, "campaign.enrolled", enrollment, "enrollment", detail)
