"""Cease, attorney, dispute, bankruptcy and deceased holds: set and released with their audit
events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from outreach.actions.audit import ActionError, add_audited, audit
from outreach.db.models import (
    Hold,
)
from outreach.vocabulary import HoldKind


def set_hold(
    session: Session,
    now: datetime,
    actor: str,
    *,
    debtor_id: int,
    kind: str,
    account_id: int | None = None,
    reason: str = "",
) -> Hold:
    """Place a hold (idempotent: an active hold of the same kind and scope is returned)."""
    if kind not in tuple(HoldKind):
        raise ActionError(f"hold kind must be one of {', '.join(HoldKind)}, not {kind!r}")
    existing = session.scalars(_active_holds(debtor_id, kind, account_id)).first()
    if existing is not None:
        return existing
    hold = Hold(
        debtor_id=debtor_id,
        account_id=account_id,
        kind=kind,
        reason=reason,
        source=actor,
        created_at=now,
    )
    return add_audited(
        session, now, actor, "hold.set", hold, "hold", {"kind": kind, "reason": reason}
    )


def release_holds(
    session: Session,
    now: datetime,
    actor: str,
    *,
    debtor_id: int,
    kind: str,
    account_id: int | None = None,
    reason: str = "",
) -> list[Hold]:
    """Lift the active holds of `kind` in that scope. For a dispute, `reason` should say
    which verification was sent (F17). Returns the holds lifted ([] if there were none)."""
    holds = list(session.scalars(_active_holds(debtor_id, kind, account_id)))
    for hold in holds:
        hold.released_at = now
        hold.release_reason = reason
        audit(
            session,
            now,
            actor,
            "hold.released",
            debtor_id=debtor_id,
            account_id=account_id,
            subject=f"hold:{hold.id}",
            detail={"kind": kind, "reason": reason},
        )
    return holds


def _active_holds(debtor_id: int, kind: str, account_id: int | None) -> Select[Hold]:
    """Unreleased holds of `kind` on the debtor (account_id None) or on one account."""
    scope = Hold.account_id.is_(None) if account_id is None else Hold.account_id == account_id
    return select(Hold).where(
        Hold.debtor_id == debtor_id, Hold.kind == kind, scope, Hold.released_at.is_(None)
    )
