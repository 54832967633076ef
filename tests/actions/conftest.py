"""Shared fixtures of the actions tests: a session factory and a debtor's audit events, in order."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from outreach.db.casework import AuditEvent
from outreach.db.engine import session_factory


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


def audit_events(factory: sessionmaker[Session], debtor_id: int) -> list[tuple[str, str]]:
    with factory() as session:
        rows = session.execute(
            select(AuditEvent.actor, AuditEvent.action)
            .where(AuditEvent.debtor_id == debtor_id)
            .order_by(AuditEvent.id)
        )
        return [(a, b) for a, b in rows]
