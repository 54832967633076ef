"""The workers table: each running worker's heartbeat, for the reaper's peace of mind and
for people (console, CLI, metrics: which workers are alive, draining, stopped)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from outreach.db.engine import insert_ignoring_duplicates
from outreach.db.workers import Worker


def beat(
    session: Session, worker_id: str, channels: Iterable[str], state: str, now: datetime
) -> None:
    """Record that `worker_id` is alive now, in `state` (running, draining, stopped)."""
    session.execute(
        insert_ignoring_duplicates(session, Worker).values(
            id=worker_id,
            host=socket.gethostname(),
            pid=os.getpid(),
            channels=",".join(channels),
            state=state,
            started_at=now,
            heartbeat_at=now,
        )
    )
    session.execute(
        update(Worker)
        .where(Worker.id == worker_id)
        .values(state=state, heartbeat_at=now, stopped_at=now if state == "stopped" else None)
    )


def mark_lost(session: Session, now: datetime, lease: timedelta) -> int:
    """Workers silent for longer than a lease died without draining (kill -9, a lost host):
    `lost`, so their heartbeat age stops alerting once the reaper has settled their rows."""
    result = session.execute(
        update(Worker)
        .where(Worker.state.in_(("running", "draining")), Worker.heartbeat_at < now - lease)
        .values(state="lost", stopped_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
