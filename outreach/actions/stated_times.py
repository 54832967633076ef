"""Times the consumer said are inconvenient (F3), in local time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from typing import Any

from sqlalchemy.orm import Session

from outreach.actions.audit import ActionError, audit
from outreach.db.models import (
    Debtor,
)
from outreach.vocabulary import WEEKDAYS


def add_inconvenient_time(
    session: Session,
    now: datetime,
    actor: str,
    debtor: Debtor,
    *,
    start: str,
    end: str,
    days: Sequence[str] | None = None,
    channel: str | None = None,
) -> dict[str, Any]:
    """Record "not between START and END [on DAYS] [by CHANNEL]" in the debtor's local time."""
    for label, value in (("start", start), ("end", end)):
        try:
            time.fromisoformat(value)
        except ValueError:
            raise ActionError(f"{label} must be HH:MM, not {value!r}") from None
    if start == end:
        raise ActionError("start and end must differ")
    if days is not None:
        bad = [d for d in days if d not in WEEKDAYS]
        if bad or not days:
            raise ActionError(f"days must be some of {', '.join(WEEKDAYS)}")
    entry = {
        "start": start,
        "end": end,
        "days": list(days) if days is not None else None,
        "channel": channel,
        "source": actor,
        "created_at": now.isoformat(),
    }
    debtor.inconvenient_times = [*debtor.inconvenient_times, entry]
    audit(
        session,
        now,
        actor,
        "inconvenient_time.added",
        debtor_id=debtor.id,
        detail={k: entry[k] for k in ("start", "end", "days", "channel")},
    )
    return entry


def remove_inconvenient_time(
    session: Session, now: datetime, actor: str, debtor: Debtor, index: int
) -> dict[str, Any]:
    """Withdraw one stated inconvenient time (by its position in the list)."""
    times = list(debtor.inconvenient_times)
    if not 0 <= index < len(times):
        raise ActionError(f"no inconvenient time #{index}")
    removed = times.pop(index)
    debtor.inconvenient_times = times
    audit(
        session,
        now,
        actor,
        "inconvenient_time.removed",
        debtor_id=debtor.id,
        detail={k: removed.get(k) for k in ("start", "end", "days", "channel")},
    )
    return removed
