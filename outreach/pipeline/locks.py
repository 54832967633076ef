"""The per-debtor lock that keeps caps exact when several workers dispatch at once.

Caps are counted from the log, so two workers checking messages of one debtor at the same
instant could both see room under a cap. On PostgreSQL each worker holds a transaction-level
advisory lock per debtor from loading the history until its `sending` rows are committed;
the second worker then sees the first one's sends. SQLite needs nothing: BEGIN IMMEDIATE
already makes these transactions one at a time.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from outreach.db.models import Message

# pg_advisory_xact_lock keys: this base plus the debtor id (the planner's key is far below).
DEBTOR_LOCK_BASE = 0x6F75_0000_0000_0000


def lock_debtors(session: Session, message_ids: Sequence[int]) -> None:
    """Lock the debtors of these messages until the transaction ends (PostgreSQL only),
    in debtor id order so two workers never deadlock."""
    if session.get_bind().dialect.name != "postgresql":
        return
    debtor_ids = sorted(
        set(session.scalars(select(Message.debtor_id).where(Message.id.in_(message_ids))))
    )
    if not debtor_ids:
        return
    # One statement for the batch: the subquery's order is the order the locks are taken.
    session.execute(
        text(
            "SELECT pg_advisory_xact_lock(k) FROM"
            " (SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY k) AS keys"
        ),
        {"keys": [DEBTOR_LOCK_BASE + d for d in debtor_ids]},
    )
