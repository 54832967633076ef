"""The agents' inbox: inbound messages that need a person, and open tasks."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.db.casework import Task
from outreach.db.models import (
    Debtor,
    InboundMessage,
)
from outreach.masking import mask, mask_text


@dataclass(frozen=True)
class InboxReply:
    id: int
    received_at: datetime
    channel: str
    from_address: str  # masked
    body: str  # long numbers masked
    intent: str | None
    action: str | None
    debtor_id: int | None
    debtor_name: str | None
    tasks: tuple[int, ...]  # open tasks raised by this reply


@dataclass(frozen=True)
class InboxTask:
    id: int
    created_at: datetime
    kind: str
    summary: str
    debtor_id: int | None
    debtor_name: str | None


@dataclass(frozen=True)
class Inbox:
    replies: list[InboxReply]
    tasks: list[InboxTask]  # open tasks not tied to a reply listed above


def inbox(session: Session, limit: int = 200) -> Inbox:
    """Replies that wait for a person, and open tasks, oldest first (first come, first served)."""
    names = Debtor.first_name + " " + Debtor.last_name
    replies = session.execute(
        select(InboundMessage, names)
        .outerjoin(Debtor, Debtor.id == InboundMessage.debtor_id)
        .where(InboundMessage.needs_agent.is_(True), InboundMessage.handled_at.is_(None))
        .order_by(InboundMessage.received_at, InboundMessage.id)
        .limit(limit)
    ).all()
    open_tasks = session.execute(
        select(Task, names)
        .outerjoin(Debtor, Debtor.id == Task.debtor_id)
        .where(Task.status == "open")
        .order_by(Task.created_at, Task.id)
        .limit(limit)
    ).all()
    by_inbound: dict[int, list[int]] = defaultdict(list)
    for task, _ in open_tasks:
        if task.inbound_id is not None:
            by_inbound[task.inbound_id].append(task.id)
    listed = {m.id for m, _ in replies}
    return Inbox(
        replies=[
            InboxReply(
                id=m.id,
                received_at=m.received_at,
                channel=m.channel,
                from_address=mask(m.from_address),
                body=mask_text(m.body),
                intent=m.intent,
                action=m.action,
                debtor_id=m.debtor_id,
                debtor_name=name,
                tasks=tuple(by_inbound.get(m.id, ())),
            )
            for m, name in replies
        ],
        tasks=[
            InboxTask(
                id=t.id,
                created_at=t.created_at,
                kind=t.kind,
                summary=mask_text(t.summary),
                debtor_id=t.debtor_id,
                debtor_name=name,
            )
            for t, name in open_tasks
            if t.inbound_id not in listed
        ],
    )
