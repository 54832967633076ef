"""ORM tables (SQLAlchemy 2.0 typed mapping). The message log is the audit trail."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    column,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from outreach.db.types import Base, BigId, money_column
from outreach.vocabulary import DUE_STATES, LEASED_STATES, Channel, MessageState


def _state_in(states: tuple[str, ...]) -> ColumnElement[bool]:
    """A partial index's predicate on the message state (rendered as constants in the DDL)."""
    return column("state", String).in_([str(s) for s in states])


def _due_on(channel: str) -> ColumnElement[bool]:
    """The rows one channel's claim reads: due states, that channel. One index per channel,
    keyed (due_at, id) like the claim's ORDER BY: the planner then always prefers it to the
    full (due_at, id) index, which walks the same order through every message ever sent
    (an index led by channel loses that comparison when due_at follows the table's order)."""
    return and_(_state_in(DUE_STATES), column("channel", String) == str(channel))


class Debtor(Base):
    __tablename__ = "debtors"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(8), default="en")
    stated_timezone: Mapped[str | None] = mapped_column(String(64))
    # F3: consumer-stated inconvenient times, honoured until withdrawn. Each item:
    # {"start": "HH:MM", "end": "HH:MM", "days": ["mon", ...] | null, "channel": str | null,
    #  "source": str, "created_at": ISO-8601}.
    inconvenient_times: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]

    accounts: Mapped[list[Account]] = relationship(back_populates="debtor")
    contact_points: Mapped[list[ContactPoint]] = relationship(back_populates="debtor")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    creditor: Mapped[str] = mapped_column(String(200))
    original_creditor: Mapped[str | None] = mapped_column(String(200))
    account_number: Mapped[str] = mapped_column(String(64))
    balance: Mapped[Decimal] = mapped_column(money_column())
    # Regulation F itemization: date, amount then, interest, fees, payments, credits since.
    itemization: Mapped[dict[str, Any]] = mapped_column(default=dict)
    due_date: Mapped[date | None] = mapped_column(Date)
    days_past_due: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str | None] = mapped_column(String(2))  # US state whose law governs
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | paid | closed
    time_barred: Mapped[bool] = mapped_column(Boolean, default=False)
    tags: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime]

    debtor: Mapped[Debtor] = relationship(back_populates="accounts")


class ContactPoint(Base):
    """A phone (E.164), email or postal address, with consent and where it came from."""

    __tablename__ = "contact_points"
    __table_args__ = (UniqueConstraint("debtor_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # phone | email | address
    value: Mapped[str] = mapped_column(String(320))  # E.164, lower-case email, one-line address
    label: Mapped[str | None] = mapped_column(String(16))  # mobile | home | work | personal
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # line1, line2, city, state, zip
    consent: Mapped[str] = mapped_column(String(16), default="unknown")  # granted|unknown|revoked
    opted_out_at: Mapped[datetime | None]
    undeliverable_at: Mapped[datetime | None]
    source: Mapped[str] = mapped_column(String(200))  # e.g. "import:portfolio.csv:12"
    created_at: Mapped[datetime]

    debtor: Mapped[Debtor] = relationship(back_populates="contact_points")

    @property
    def usable(self) -> bool:
        return self.opted_out_at is None and self.undeliverable_at is None


class Hold(Base):
    """cease, dispute, attorney, bankruptcy, deceased: on a debtor or an account, until released."""

    __tablename__ = "holds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(200))  # "agent:NAME", "sms:<inbound id>", import
    created_at: Mapped[datetime]
    released_at: Mapped[datetime | None]
    # Why it was lifted: for a dispute, the verification that was sent (F17).
    release_reason: Mapped[str | None] = mapped_column(Text)


class CampaignRow(Base):
    """A campaign known to the database; its definition lives in config/campaigns/NAME.yaml."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | paused
    definition: Mapped[dict[str, Any]] = mapped_column(default=dict)  # last loaded, for the record
    updated_at: Mapped[datetime]


class Enrollment(Base):
    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("account_id", "campaign_id"),
        Index("ix_enrollments_due", "status", "next_due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    enrolled_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="active")  # active|completed|stopped
    stop_reason: Mapped[str | None] = mapped_column(String(200))
    next_step: Mapped[int] = mapped_column(Integer, default=0)  # index of the next step to plan
    next_due_at: Mapped[datetime | None]


def due_index(channel: str) -> str:
    """The name of a channel's partial index of due messages (migration 0006)."""
    return f"ix_messages_due_{channel}"


class Message(Base):
    """One planned or sent message: the log row agents read, with the decision behind it."""

    __tablename__ = "messages"
    __table_args__ = (
        # A step can never be planned twice.
        UniqueConstraint("enrollment_id", "step_id", name="uq_messages_enrollment_step"),
        Index("ix_messages_debtor_sent", "debtor_id", "sent_at"),
        # Only live work (issue 11): a claim walks the due rows of its channel oldest first
        # and stops after its batch; the reaper reads the leases in flight. No index here
        # holds the messages already sent, so no walk grows with them.
        *(
            Index(
                due_index(channel),
                "due_at",
                "id",
                postgresql_where=_due_on(channel),
                sqlite_where=_due_on(channel),
            )
            for channel in Channel
        ),
        Index(
            "ix_messages_leased",
            "lease_expires_at",
            postgresql_where=_state_in(LEASED_STATES),
            sqlite_where=_state_in(LEASED_STATES),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("enrollments.id"))
    step_id: Mapped[str | None] = mapped_column(String(64))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    campaign: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(24), default="collection")
    template: Mapped[str] = mapped_column(String(200))
    contact_point_id: Mapped[int | None] = mapped_column(ForeignKey("contact_points.id"))
    to_address: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)  # rendered text (SMS body, email text part)
    html: Mapped[str | None] = mapped_column(Text)
    artifact: Mapped[str | None] = mapped_column(String(500))  # letter PDF path
    state: Mapped[str] = mapped_column(String(16), default=MessageState.PLANNED)
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    decision: Mapped[dict[str, Any] | None] = mapped_column(
        JSON
    )  # verdict, not_before, rules, reasons
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    in_reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))


class MessageEvent(Base):
    """Every state transition: when, from, to, and why."""

    __tablename__ = "message_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    at: Mapped[datetime]
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    cause: Mapped[str] = mapped_column(
        String(64)
    )  # planner | dispatcher:<worker> | provider | agent
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class InboundMessage(Base):
    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The provider's request signature (X-Twilio-Signature): a captured request re-cut under
    # a new MessageSid keeps it, so one signature is one message.
    signature: Mapped[str | None] = mapped_column(String(64), unique=True)
    from_address: Mapped[str] = mapped_column(String(320))
    to_address: Mapped[str | None] = mapped_column(String(320))
    body: Mapped[str] = mapped_column(Text, default="")
    debtor_id: Mapped[int | None] = mapped_column(ForeignKey("debtors.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    intent: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str | None] = mapped_column(Text)
    # True while it waits for an agent (the inbox); handled_* say who cleared it.
    needs_agent: Mapped[bool] = mapped_column(Boolean, default=False)
    handled_at: Mapped[datetime | None]
    handled_by: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime]
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ImportRun(Base):
    """One portfolio import: what was read, what was rejected and why (kept, not just printed)."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    file: Mapped[str] = mapped_column(String(500))
    started_at: Mapped[datetime]
    rows: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[str]] = mapped_column(default=list)


# Inbound (issue 4): an SMS reply, a carrier opt-out or a bounce names a phone or an email;
# find its contact points by value without scanning the table.
Index("ix_contact_points_kind_value", ContactPoint.kind, ContactPoint.value)


# The message log (issue 5): newest first by id, keyset pages (WHERE id < cursor). One index
# per selective filter, ending in id, so any page of a filtered log is an index range walk.
# Debtor and account filters use ix_messages_debtor_sent / ix_messages_account_id (few rows
# each); channel needs none (a third of the log: walking the primary key finds a page fast).
Index("ix_messages_state_id", Message.state, Message.id)


Index("ix_messages_campaign_id", Message.campaign, Message.id)


Index("ix_messages_to_id", Message.to_address, Message.id)


Index("ix_messages_due_at_id", Message.due_at, Message.id)


# The campaign dashboard counts the last days' transitions.
Index("ix_message_events_at", MessageEvent.at)
