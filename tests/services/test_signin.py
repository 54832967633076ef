"""A refused sign-in is committed by the service (its audit row is the rate limit's
counter); a good one starts a session."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from outreach.auth.sessions import SIGN_IN_FAILED, SignInRefused
from outreach.config.loader import Config
from outreach.db.casework import AuditEvent
from outreach.db.users import UserSession
from outreach.services import signin
from outreach.services.contract import Acting


def test_refusals_are_audited_and_a_good_sign_in_starts_a_session(
    factory: sessionmaker[Session], admin: Acting, config: Config
) -> None:
    settings = config.file.console
    with factory() as session:
        with pytest.raises(SignInRefused):
            signin.sign_in(session, admin.now, settings, name="root", password="nope", ip="1.2.3.4")
        token = signin.sign_in(
            session, admin.now, settings, name="root", password="x" * 12, ip="1.2.3.4"
        )
        assert token and not session.in_transaction()
    with factory() as session:
        failed = select(func.count()).where(AuditEvent.action == SIGN_IN_FAILED)
        assert session.scalar(failed) == 1
        assert session.scalar(select(func.count()).select_from(UserSession)) == 1
