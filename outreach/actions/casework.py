"""An agent's casework: calls placed, notes, tasks, inbound messages handled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.actions.audit import ActionError, add_audited, audit
from outreach.db.casework import Call, Note, Task
from outreach.db.models import (
    InboundMessage,
)
from outreach.vocabulary import CallOutcome


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
    if outcome not in tuple(CallOutcome):
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
    return add_audited(session, now, actor, f"call.{outcome}", call, "call", detail)


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
    return add_audited(session, now, actor, "note.added", note, "note")


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
    return add_audited(session, now, actor, "task.created", task, "task", detail)


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
