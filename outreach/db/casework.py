"""Tables of an agent's work on a debtor: calls, promises, payments, tasks, notes and the audit
trail."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

# The tables this module's foreign keys name (debtors, accounts, messages...): a command that
# touches only casework rows, such as `outreach users add` auditing itself, must still find them.
from outreach.db import models as _models  # noqa: F401
from outreach.db.types import Base, BigId, money_column


class Call(Base):
    """A call attempt or conversation an agent recorded (F8 counts these per account)."""

    __tablename__ = "calls"
    __table_args__ = (Index("ix_calls_debtor_at", "debtor_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(16))  # attempt | conversation
    phone: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Promise(Base):
    """A promise to pay: reminders pause until `due_on`; a follow-up comes the day after."""

    __tablename__ = "promises"
    __table_args__ = (Index("ix_promises_account_status", "account_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    amount: Mapped[Decimal] = mapped_column(money_column())
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|kept|broken|cancelled
    source: Mapped[str] = mapped_column(String(200))
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    followup_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(money_column())
    paid_at: Mapped[datetime]
    method: Mapped[str] = mapped_column(String(32), default="other")
    reference: Mapped[str | None] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Task(Base):
    """Work for an agent: a callback request, a reply nobody could parse."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    debtor_id: Mapped[int | None] = mapped_column(ForeignKey("debtors.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    kind: Mapped[str] = mapped_column(String(16))  # callback | reply | bounce | review
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | done
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(64))


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    author: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class AuditEvent(Base):
    """Who did what, when, to whom: every agent, debtor-reply and system action on a debtor."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_debtor_at", "debtor_id", "at"),
        Index("ix_audit_action_at", "action", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))  # "agent:alice", "debtor:sms", "system"
    action: Mapped[str] = mapped_column(String(48))  # "hold.set", "contact.opt_out", ...
    debtor_id: Mapped[int | None] = mapped_column(ForeignKey("debtors.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    subject: Mapped[str | None] = mapped_column(String(64))  # "hold:12", "contact_point:3"
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
