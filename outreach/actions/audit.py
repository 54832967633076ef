"""What people and replies do to a debtor's record: holds, opt-outs, calls, promises,
payments, notes, tasks, inconvenient times.

Agents (web, API, CLI), SMS replies and the system all go through these functions, so each
change is written together with its audit event in the caller's transaction: the audit
trail and the timeline can never disagree with the data. No commits here; the caller owns
the transaction. `actor` names who acted: "agent:alice", "debtor:sms", "system".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from outreach.db.casework import AuditEvent


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


def add_audited(
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
