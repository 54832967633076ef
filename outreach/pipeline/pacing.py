"""The shared rate limit of one sender: every worker reserves send slots from one row.

A sender (a Twilio from number or Messaging Service, an SMTP relay) allows so many messages
per second however many workers send through it. Each worker reserves the next free slots in
a short transaction (GCRA: the row holds the time of the next free slot) and waits for them
with asyncio.sleep, so four workers configured for 10/s send 10/s together. A provider's
Retry-After pushes the row's `blocked_until`: no worker sends through that sender before.

Rate limiters such as pyrate-limiter or limits keep their buckets in memory, Redis or their
own SQLite file; this one uses the database the workers already share (SQLite or
PostgreSQL) through the same engine, and knows Retry-After. Times are epoch seconds from the
workers' clocks (keep them in sync with NTP); a skew only shifts slots, never doubles them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.db.engine import insert_ignoring_duplicates
from outreach.db.workers import SendPacing


def _locked(session: Session, key: str, now: float) -> SendPacing:
    """The sender's row, locked; created the first time it is used."""
    query = select(SendPacing).where(SendPacing.key == key).with_for_update()
    row = session.scalars(query).one_or_none()
    if row is not None:
        return row
    session.execute(
        insert_ignoring_duplicates(session, SendPacing).values(
            key=key, next_at=now, blocked_until=0.0
        )
    )
    return session.scalars(query).one()


def reserve(session: Session, key: str, per_second: float, count: int, now: float) -> list[float]:
    """Reserve `count` consecutive slots for `key`; returns their start times (epoch s)."""
    row = _locked(session, key, now)
    interval = 1.0 / per_second
    first = max(now, row.next_at, row.blocked_until)
    row.next_at = first + count * interval
    return [first + i * interval for i in range(count)]


def block(session: Session, key: str, until: float, now: float) -> None:
    """No slot for `key` starts before `until` (a provider's Retry-After)."""
    row = _locked(session, key, now)
    row.blocked_until = max(row.blocked_until, until)
    row.next_at = max(row.next_at, until)


def blocked_until(session: Session, key: str) -> float:
    return session.scalar(select(SendPacing.blocked_until).where(SendPacing.key == key)) or 0.0
