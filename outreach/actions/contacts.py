"""Contact points: opt-outs and undeliverable numbers or addresses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from outreach.actions.audit import audit
from outreach.db.models import (
    ContactPoint,
)


def set_opt_out(
    session: Session,
    now: datetime,
    actor: str,
    point: ContactPoint,
    *,
    opted_out: bool,
    reason: str = "",
) -> bool:
    """Opt a phone or email out (F7) or back in. Returns False when nothing changed."""
    if opted_out == (point.opted_out_at is not None):
        return False
    if opted_out:
        point.opted_out_at = now
        point.consent = "revoked"
    else:
        point.opted_out_at = None
        point.consent = "granted"
    audit(
        session,
        now,
        actor,
        "contact.opt_out" if opted_out else "contact.opt_in",
        debtor_id=point.debtor_id,
        subject=f"contact_point:{point.id}",
        detail={"kind": point.kind, "value": point.value, "reason": reason},
    )
    return True


def mark_undeliverable(
    session: Session, now: datetime, actor: str, point: ContactPoint, *, reason: str
) -> bool:
    """A hard bounce or a dead number: stop using the address. False if already marked."""
    if point.undeliverable_at is not None:
        return False
    point.undeliverable_at = now
    audit(
        session,
        now,
        actor,
        "contact.undeliverable",
        debtor_id=point.debtor_id,
        subject=f"contact_point:{point.id}",
        detail={"kind": point.kind, "value": point.value, "reason": reason},
    )
    return True
