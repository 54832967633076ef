"""The service tests' fixture: a migrated database's session factory and an admin acting
at the clock's now."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from outreach.auth.users import create_user
from outreach.clock import SimulatedClock
from outreach.db.engine import session_factory
from outreach.services.contract import Acting


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def admin(factory: sessionmaker[Session], clock: SimulatedClock) -> Acting:
    with factory.begin() as session:
        user = create_user(
            session, clock.now(), "test", name="root", role="admin", password="x" * 12
        )
    return Acting(user, clock.now())
