"""Signing in and out of the console, each in one transaction. A refused sign-in is
committed too: its audit row is what the rate limits (per name and address, per address)
count."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from outreach.auth import sessions
from outreach.config.settings import ConsoleSettings
from outreach.db.users import User


def session_lifetime(settings: ConsoleSettings) -> timedelta:
    return timedelta(hours=settings.session_hours)


def sign_in(
    session: Session,
    now: datetime,
    settings: ConsoleSettings,
    *,
    name: str,
    password: str,
    ip: str,
) -> str:
    """The new session's token, or SignInRefused (after committing its audit row)."""
    with session.begin():
        try:
            user = sessions.sign_in(session, now, settings, name=name, password=password, ip=ip)
        except sessions.SignInRefused as exc:
            refused = exc
        else:
            return sessions.start_session(session, now, user, session_lifetime(settings))
    raise refused


def sign_out(session: Session, now: datetime, token: str, user: User) -> None:
    with session.begin():
        sessions.end_session(session, now, token, user)
