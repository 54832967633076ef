"""One debtor's history as a single list, newest first: what was sent (with every state change
and the rule and reason behind each deferral or block), what came back (with the intent found
and the action taken), and what people did (notes, calls, promises, payments, holds, and the
other audited actions).

Pure assembly: one query per source, merged in memory. Full contact values are kept: the
timeline is shown only on the debtor's own page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.db.casework import AuditEvent, Call, Note, Payment, Promise
from outreach.db.models import Hold, InboundMessage, Message, MessageEvent

# Audit actions whose object already has its own entry (which names who did it).
_SHOWN_ELSEWHERE = frozenset(
    {
        "note.added",
        "call.attempt",
        "call.conversation",
        "promise.recorded",
        "payment.recorded",
        "hold.set",
        "hold.released",
    }
)


@dataclass(frozen=True)
class EventLine:
    """One state change of an outbound message."""

    at: datetime
    from_state: str | None
    to_state: str
    cause: str
    reason: str | None
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # outbound | inbound | note | call | promise | payment | hold | hold_released | audit
    title: str
    actor: str | None = None
    state: str | None = None
    channel: str | None = None
    body: str | None = None
    rules: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    events: tuple[EventLine, ...] = ()
    ref: str | None = None  # "message:12", "inbound:3", ...

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "kind": self.kind,
            "title": self.title,
            "actor": self.actor,
            "state": self.state,
            "channel": self.channel,
            "body": self.body,
            "rules": list(self.rules),
            "reasons": list(self.reasons),
            "events": [
                {
                    "at": e.at.isoformat(),
                    "from": e.from_state,
                    "to": e.to_state,
                    "cause": e.cause,
                    "reason": e.reason,
                    "rules": list(e.rules),
                }
                for e in self.events
            ],
            "ref": self.ref,
        }


def debtor_timeline(session: Session, debtor_id: int, *, limit: int = 500) -> list[Entry]:
    """Everything about one debtor, newest first (at most `limit` rows of each kind)."""
    entries = _outbound(session, debtor_id, limit)
    entries += [
        Entry(
            at=m.received_at,
            kind="inbound",
            title=f"{m.channel} reply from {m.from_address}",
            channel=m.channel,
            body=m.body,
            state=m.intent,
            reasons=tuple(
                x
                for x in (
                    f"Action: {m.action}" if m.action else None,
                    "Waiting for an agent" if m.needs_agent and m.handled_at is None else None,
                    f"Handled by {m.handled_by}" if m.handled_at is not None else None,
                )
                if x
            ),
            ref=f"inbound:{m.id}",
        )
        for m in _rows(session, InboundMessage, debtor_id, InboundMessage.received_at, limit)
    ]
    entries += [
        Entry(at=n.created_at, kind="note", title="Note", actor=n.author, body=n.body)
        for n in _rows(session, Note, debtor_id, Note.created_at, limit)
    ]
    entries += [
        Entry(
            at=c.at,
            kind="call",
            title=f"Call {c.outcome}" + (f" to {c.phone}" if c.phone else ""),
            actor=c.actor,
            state=c.outcome,
            body=c.note or None,
        )
        for c in _rows(session, Call, debtor_id, Call.at, limit)
    ]
    entries += [
        Entry(
            at=p.created_at,
            kind="promise",
            title=f"Promise to pay {p.amount} by {p.due_on.isoformat()}",
            actor=p.source,
            state=p.status,
            ref=f"promise:{p.id}",
        )
        for p in _rows(session, Promise, debtor_id, Promise.created_at, limit)
    ]
    entries += [
        Entry(
            at=p.paid_at,
            kind="payment",
            title=f"Payment of {p.amount} ({p.method})",
            actor=p.actor,
            body=f"Reference {p.reference}" if p.reference else None,
            ref=f"payment:{p.id}",
        )
        for p in _rows(session, Payment, debtor_id, Payment.paid_at, limit)
    ]
    for h in _rows(session, Hold, debtor_id, Hold.created_at, limit):
        scope = f" on account {h.account_id}" if h.account_id else ""
        entries.append(
            Entry(
                at=h.created_at,
                kind="hold",
                title=f"Hold set: {h.kind}{scope}",
                actor=h.source,
                body=h.reason or None,
                state="active" if h.released_at is None else "released",
                ref=f"hold:{h.id}",
            )
        )
        if h.released_at is not None:
            entries.append(
                Entry(
                    at=h.released_at,
                    kind="hold_released",
                    title=f"Hold released: {h.kind}{scope}",
                    body=h.release_reason or None,
                    ref=f"hold:{h.id}",
                )
            )
    entries += [
        Entry(
            at=a.at,
            kind="audit",
            title=a.action,
            actor=a.actor,
            body=_detail_text(a.detail),
            ref=a.subject,
        )
        for a in _rows(session, AuditEvent, debtor_id, AuditEvent.at, limit)
        if a.action not in _SHOWN_ELSEWHERE
    ]
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries


def _rows(session: Session, model: Any, debtor_id: int, order: Any, limit: int) -> list[Any]:
    return list(
        session.scalars(
            select(model).where(model.debtor_id == debtor_id).order_by(order.desc()).limit(limit)
        )
    )


def _outbound(session: Session, debtor_id: int, limit: int) -> list[Entry]:
    messages = list(
        session.scalars(
            select(Message)
            .where(Message.debtor_id == debtor_id)
            .order_by(Message.id.desc())
            .limit(limit)
        )
    )
    events: dict[int, list[EventLine]] = defaultdict(list)
    if messages:
        for e in session.scalars(
            select(MessageEvent)
            .where(MessageEvent.message_id.in_([m.id for m in messages]))
            .order_by(MessageEvent.id)
        ):
            detail = e.detail or {}
            events[e.message_id].append(
                EventLine(
                    at=e.at,
                    from_state=e.from_state,
                    to_state=e.to_state,
                    cause=e.cause,
                    reason=detail.get("reason"),
                    rules=tuple(detail.get("rules", ())),
                )
            )
    out = []
    for m in messages:
        decision = m.decision or {}
        what = m.subject or m.template
        to = f" to {m.to_address}" if m.to_address else ""
        out.append(
            Entry(
                at=m.sent_at or m.updated_at,
                kind="outbound",
                title=f"{m.channel}: {what}{to}",
                actor=m.campaign and f"campaign:{m.campaign}",
                state=m.state,
                channel=m.channel,
                body=m.error_message,
                rules=tuple(decision.get("rules", ())),
                reasons=tuple(decision.get("reasons", ())),
                events=tuple(events.get(m.id, ())),
                ref=f"message:{m.id}",
            )
        )
    return out


def _detail_text(detail: dict[str, Any] | None) -> str | None:
    if not detail:
        return None
    return ", ".join(f"{k}: {v}" for k, v in detail.items() if v not in (None, "", []))
