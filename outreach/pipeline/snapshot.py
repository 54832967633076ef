"""Load everything a batch of claimed messages needs, in a few queries (never one per message),
and turn it into the frozen snapshots the compliance rules read.

History (what counts against caps and F8) is every message in a contact state plus every call
agents recorded, over the policy's longest look-back. Answers to the consumer (message kinds
in the policy's `responses`, e.g. HELP replies and the opt-out confirmation) are left out:
they are not collector-initiated contacts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.compliance.policy import Policy
from outreach.compliance.timezones import candidate_zones
from outreach.compliance.types import (
    AccountSnapshot,
    Contact,
    DebtorSnapshot,
    EmailAddress,
    InconvenientTime,
)
from outreach.db.casework import Call, Promise
from outreach.db.models import Account, ContactPoint, Debtor, Enrollment, Hold, Message
from outreach.db.rows import (
    AccountRow,
    DebtorRow,
    EnrollmentRow,
    HoldRow,
    MessageRow,
    PointRow,
    load_rows,
    select_rows,
)
from outreach.vocabulary import CONTACT_STATES, WEEKDAYS, MessageKind

RESPONSE_KINDS: tuple[str, ...] = tuple(Policy().responses)


@dataclass
class BatchContext:
    messages: list[MessageRow]
    debtors: dict[int, DebtorRow]
    accounts: dict[int, AccountRow]
    enrollments: dict[int, EnrollmentRow]
    contact_points: dict[int, list[PointRow]]
    holds: dict[int, list[HoldRow]]  # by debtor
    history: dict[int, list[Contact]]  # by debtor
    validation_sent: dict[int, datetime]  # account id -> when its validation notice went out
    promises: dict[int, date] = field(default_factory=dict)  # account id -> open promise due
    _debtor_snapshots: dict[int, DebtorSnapshot] = field(default_factory=dict)
    _zones: dict[tuple[int, str | None], tuple[str, ...]] = field(default_factory=dict)

    def debtor_snapshot(self, debtor_id: int) -> DebtorSnapshot:
        snap = self._debtor_snapshots.get(debtor_id)
        if snap is None:
            snap = self._debtor_snapshots[debtor_id] = _debtor_snapshot(
                self.debtors[debtor_id],
                self.contact_points.get(debtor_id, []),
                self.holds.get(debtor_id, []),
            )
        return snap

    def zones(self, debtor_id: int, to: str | None = None) -> tuple[str, ...]:
        """The debtor's candidate zones with the phone `to` being contacted (None for email
        and letters), worked out once per batch (phone parsing is the costly part of a
        check)."""
        key = (debtor_id, to)
        zones = self._zones.get(key)
        if zones is None:
            zones = self._zones[key] = candidate_zones(self.debtor_snapshot(debtor_id), to=to)
        return zones

    def evidence(self) -> dict[int, tuple[object, ...]]:
        """Per debtor, everything a check of their messages reads, as one comparable value.
        A debtor whose evidence is the same in a batch read again later gets the same
        answers from the checks (they are pure), so their earlier decisions still hold."""
        messages: dict[int, list[MessageRow]] = defaultdict(list)
        for m in self.messages:
            messages[m.debtor_id].append(m)
        out: dict[int, tuple[object, ...]] = {}
        for debtor_id in self.debtors.keys() | messages.keys():
            mine = messages.get(debtor_id, [])
            accounts = sorted({m.account_id for m in mine if m.account_id is not None})
            enrollments = sorted({m.enrollment_id for m in mine if m.enrollment_id is not None})
            out[debtor_id] = (
                self.debtors.get(debtor_id),
                tuple(mine),
                tuple(self.contact_points.get(debtor_id, ())),
                tuple(self.holds.get(debtor_id, ())),
                tuple(self.history.get(debtor_id, ())),
                tuple(self.accounts.get(a) for a in accounts),
                tuple(self.validation_sent.get(a) for a in accounts),
                tuple(self.promises.get(a) for a in accounts),
                tuple(self.enrollments.get(e) for e in enrollments),
            )
        return out

    def account_snapshot(self, account_id: int | None, debtor_id: int) -> AccountSnapshot:
        if account_id is None:
            return AccountSnapshot()
        account = self.accounts[account_id]
        kinds = frozenset(
            h.kind for h in self.holds.get(debtor_id, []) if h.account_id == account_id
        )
        disputed = [
            h.created_at
            for h in self.holds.get(debtor_id, [])
            if h.account_id == account_id and h.kind == "dispute"
        ]
        return AccountSnapshot(
            id=account.id,
            state=account.state,
            time_barred=account.time_barred,
            holds=kinds,
            validation_notice_sent_at=self.validation_sent.get(account_id),
            disputed_at=min(disputed) if disputed else None,
            promise_due_on=self.promises.get(account_id),
        )


def _debtor_snapshot(
    debtor: DebtorRow, points: Sequence[PointRow], holds: Sequence[HoldRow]
) -> DebtorSnapshot:
    address = next((p for p in points if p.kind == "address" and p.address), None)
    # Every other deliverable address on file is a place the consumer may be (F2).
    other_zips = tuple(
        str(p.address["zip"])
        for p in points
        if p.kind == "address"
        and p is not address
        and p.address
        and p.address.get("zip")
        and p.undeliverable_at is None
    )
    opted_out = frozenset(
        p.value for p in points if p.opted_out_at is not None or p.consent == "revoked"
    )
    return DebtorSnapshot(
        state=(address.address or {}).get("state") if address else None,
        zip=(address.address or {}).get("zip") if address else None,
        other_zips=other_zips,
        timezone=debtor.stated_timezone,
        phones=tuple(p.value for p in points if p.kind == "phone"),
        emails=tuple(
            EmailAddress(p.value, work=p.label == "work", consented=p.consent == "granted")
            for p in points
            if p.kind == "email"
        ),
        holds=frozenset(h.kind for h in holds if h.account_id is None),
        opted_out=opted_out,
        inconvenient_times=tuple(inconvenient_time(e) for e in debtor.inconvenient_times or ()),
        consented=frozenset(p.value for p in points if p.consent == "granted"),
    )


def debtor_zones(session: Session, debtor_id: int, *, to: str | None = None) -> tuple[str, ...]:
    """One debtor's candidate zones (with the phone `to`), from the snapshot the dispatcher
    checks: for actions that read the consumer's calendar (a promise's date, "Friday")."""
    debtor = next(
        load_rows(session, DebtorRow, select_rows(DebtorRow).where(Debtor.id == debtor_id)), None
    )
    if debtor is None:
        return candidate_zones(DebtorSnapshot(), to=to)
    points = list(
        load_rows(
            session,
            PointRow,
            select_rows(PointRow)
            .where(ContactPoint.debtor_id == debtor_id)
            .order_by(ContactPoint.id),
        )
    )
    return candidate_zones(_debtor_snapshot(debtor, points, ()), to=to)


def inconvenient_time(entry: dict[str, Any]) -> InconvenientTime:
    """A stored {"start", "end", "days", "channel"} entry (actions.add_inconvenient_time)."""
    days = entry.get("days")
    return InconvenientTime(
        start=time.fromisoformat(entry["start"]),
        end=time.fromisoformat(entry["end"]),
        days=frozenset(WEEKDAYS.index(d) for d in days) if days is not None else None,
        channel=entry.get("channel"),
    )


def load_batch(
    session: Session,
    message_ids: Sequence[int],
    now: datetime,
    history_days: int,
    *,
    exclude_kinds: Sequence[str] = RESPONSE_KINDS,
) -> BatchContext:
    """The batch's rows and snapshots; `exclude_kinds` are message kinds that are not
    contacts (pass the policy's `responses`)."""
    messages = list(
        load_rows(
            session,
            MessageRow,
            select_rows(MessageRow).where(Message.id.in_(message_ids)).order_by(Message.id),
        )
    )
    return _load(
        session,
        messages,
        sorted({m.debtor_id for m in messages}),
        sorted({m.account_id for m in messages if m.account_id is not None}),
        now,
        history_days,
        exclude_kinds,
    )


def load_debtor(
    session: Session,
    debtor_id: int,
    now: datetime,
    history_days: int,
    *,
    exclude_kinds: Sequence[str] = RESPONSE_KINDS,
) -> BatchContext:
    """One debtor and all their accounts, as the dispatcher would see them (no messages):
    for questions like "when may we next contact them?"."""
    account_ids = sorted(session.scalars(select(Account.id).where(Account.debtor_id == debtor_id)))
    return _load(session, [], [debtor_id], account_ids, now, history_days, exclude_kinds)


def _load(
    session: Session,
    messages: list[MessageRow],
    debtor_ids: list[int],
    account_ids: list[int],
    now: datetime,
    history_days: int,
    exclude_kinds: Sequence[str],
) -> BatchContext:
    enrollment_ids = sorted({m.enrollment_id for m in messages if m.enrollment_id is not None})

    debtors = {
        d.id: d
        for d in load_rows(
            session, DebtorRow, select_rows(DebtorRow).where(Debtor.id.in_(debtor_ids))
        )
    }
    accounts = {
        a.id: a
        for a in load_rows(
            session, AccountRow, select_rows(AccountRow).where(Account.id.in_(account_ids))
        )
    }
    enrollments = {
        e.id: e
        for e in load_rows(
            session,
            EnrollmentRow,
            select_rows(EnrollmentRow).where(Enrollment.id.in_(enrollment_ids)),
        )
    }
    points: dict[int, list[PointRow]] = defaultdict(list)
    for cp in load_rows(
        session,
        PointRow,
        select_rows(PointRow)
        .where(ContactPoint.debtor_id.in_(debtor_ids))
        .order_by(ContactPoint.id),
    ):
        points[cp.debtor_id].append(cp)
    holds: dict[int, list[HoldRow]] = defaultdict(list)
    for hold in load_rows(
        session,
        HoldRow,
        select_rows(HoldRow).where(Hold.debtor_id.in_(debtor_ids), Hold.released_at.is_(None)),
    ):
        holds[hold.debtor_id].append(hold)

    history: dict[int, list[Contact]] = defaultdict(list)
    since = now - timedelta(days=max(history_days, 1))
    for row in session.execute(
        select(Message.debtor_id, Message.account_id, Message.channel, Message.sent_at)
        .where(
            Message.debtor_id.in_(debtor_ids),
            Message.state.in_(CONTACT_STATES),
            Message.sent_at > since,
            Message.kind.not_in(exclude_kinds),
        )
        .order_by(Message.sent_at)
    ):
        history[row.debtor_id].append(
            Contact(at=row.sent_at, channel=row.channel, account_id=row.account_id)
        )
    for call in session.execute(
        select(Call.debtor_id, Call.account_id, Call.at, Call.outcome).where(
            Call.debtor_id.in_(debtor_ids), Call.at > since
        )
    ):
        history[call.debtor_id].append(
            Contact(at=call.at, channel="call", kind=call.outcome, account_id=call.account_id)
        )
    for contacts in history.values():
        contacts.sort(key=lambda c: c.at)
    promises: dict[int, date] = {}
    for account_id, due_on in session.execute(
        select(Promise.account_id, Promise.due_on).where(
            Promise.account_id.in_(account_ids), Promise.status == "open"
        )
    ):
        promises[account_id] = max(due_on, promises.get(account_id, due_on))
    validation_sent = {
        row.account_id: row.sent_at
        for row in session.execute(
            select(Message.account_id, Message.sent_at).where(
                Message.account_id.in_(account_ids),
                Message.kind == MessageKind.VALIDATION_NOTICE,
                Message.state.in_(CONTACT_STATES),
            )
        )
        if row.sent_at is not None
    }
    return BatchContext(
        messages=messages,
        debtors=debtors,
        accounts=accounts,
        enrollments=enrollments,
        contact_points=dict(points),
        holds=dict(holds),
        history=dict(history),
        validation_sent=validation_sent,
        promises=promises,
    )
