"""A large message log written straight into the database with Core (for the claim's plan
test and bench/claim.py): a due backlog spread over channels, a paused campaign among it,
work due later, leases in flight, and many messages already sent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import Engine, insert, text

from outreach.db.models import CampaignRow, Debtor, Message
from outreach.vocabulary import Channel, MessageState

CHANNELS = (Channel.SMS, Channel.EMAIL, Channel.LETTER)
PAUSED = "paused-campaign"
PAUSED_EVERY = 50  # one due message in 50 belongs to the paused campaign
BATCH = 20_000


def seed_backlog(
    engine: Engine, now: datetime, *, due: int, sent: int, later: int = 0, analyze: bool = True
) -> None:
    """`due` planned/deferred messages due in the 30 days before `now`, `later` due in the
    30 days after, `sent` sent in the 90 days before that, and a few hundred leases (some
    expired), all on one debtor; then (with `analyze`) ANALYZE, as autovacuum would."""
    with engine.begin() as conn:
        debtor_id = conn.execute(
            insert(Debtor).returning(Debtor.id),
            {
                "external_id": f"BACKLOG-{now.timestamp()}",
                "first_name": "Back",
                "last_name": "Log",
                "language": "en",
                "inconvenient_times": [],
                "created_at": now,
            },
        ).scalar_one()
        conn.execute(
            insert(CampaignRow),
            [
                {"name": "standard", "status": "active", "definition": {}, "updated_at": now},
                {"name": PAUSED, "status": "paused", "definition": {}, "updated_at": now},
            ],
        )
    rows = _rows(debtor_id, now, due=due, sent=sent, later=later)
    while chunk := list(islice(rows, BATCH)):
        with engine.begin() as conn:
            conn.execute(insert(Message), chunk)
    if not analyze:
        return
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE messages")
            )
        else:
            conn.execute(text("ANALYZE"))
            conn.commit()


def _rows(debtor_id: int, now: datetime, *, due: int, sent: int, later: int) -> Iterator[Any]:
    def row(i: int, state: str, due_at: datetime, **extra: Any) -> dict[str, Any]:
        channel = CHANNELS[i % len(CHANNELS)]
        return {
            "debtor_id": debtor_id,
            "campaign": PAUSED if i % PAUSED_EVERY == 0 else "standard",
            "channel": channel,
            "kind": "collection",
            "template": f"{channel}/reminder",
            "state": state,
            "due_at": due_at,
            "created_at": due_at,
            "updated_at": due_at,
            "sent_at": extra.pop("sent_at", None),
            "attempts": 0,
            "lease_owner": extra.pop("lease_owner", None),
            "lease_expires_at": extra.pop("lease_expires_at", None),
        }

    month = timedelta(days=30)
    for i in range(sent):
        at = now - 4 * month + 3 * month * i / max(sent, 1)
        yield row(i, MessageState.SENT, at, sent_at=at)
    for i in range(due):
        state = MessageState.PLANNED if i % 3 else MessageState.DEFERRED
        yield row(i, state, now - month + month * i / max(due, 1))
    for i in range(later):
        yield row(i, MessageState.PLANNED, now + month * (i + 1) / max(later, 1))
    for i in range(300):
        state = (MessageState.CLAIMED, MessageState.READY, MessageState.SENDING)[i % 3]
        expires = now + timedelta(minutes=5) - timedelta(minutes=i % 10)
        yield row(i, state, now - timedelta(minutes=1), lease_owner="w", lease_expires_at=expires)
