"""Signing in (with the per-user-and-address and per-address limits counted from the audit
table), sessions and API-token lookups."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from outreach.actions.audit import audit
from outreach.auth.passwords import hash_password, hasher, new_token, token_digest, verify_password
from outreach.auth.users import find_user
from outreach.config.settings import ConsoleSettings
from outreach.db.casework import AuditEvent
from outreach.db.users import ApiToken, User, UserSession
from outreach.masking import mask

log = logging.getLogger(__name__)


SESSION_COOKIE = "outreach_session"


SIGN_IN_FAILED = "auth.sign_in_failed"


# Touch ApiToken.last_used_at at most this often: not one write per API request.
_TOKEN_TOUCH = timedelta(minutes=1)


class SignInRefused(Exception):
    """Wrong name or password (deliberately not saying which), or too many failures."""

    def __init__(self, message: str, *, rate_limited: bool = False) -> None:
        super().__init__(message)
        self.rate_limited = rate_limited


def _throttle_key(name: str, ip: str) -> str:
    return "sign-in:" + hashlib.sha256(f"{name.lower()}|{ip}".encode()).hexdigest()[:40]


def _actor(ip: str) -> str:
    return f"web:{ip}"[:64]


def _failures(session: Session, since: datetime, where: ColumnElement[bool]) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == SIGN_IN_FAILED, AuditEvent.at >= since, where)
        )
        or 0
    )


def sign_in(
    session: Session, now: datetime, settings: ConsoleSettings, *, name: str, password: str, ip: str
) -> User:
    """Check a password, counting failures per (name, ip) and per ip over every name. The
    caller commits either way: a failure is audited, and the audit rows are the counters."""
    key = _throttle_key(name, ip)
    since = now - timedelta(minutes=settings.sign_in_window_minutes)
    if _failures(session, since, AuditEvent.subject == key) >= settings.sign_in_max_failures:
        log.warning("sign-in refused: too many failures for %s from %s", mask(name), ip)
        raise SignInRefused("Too many failed sign-ins. Try again later.", rate_limited=True)
    by_address = _failures(session, since, AuditEvent.actor == _actor(ip))
    if by_address >= settings.sign_in_max_failures_per_address:
        log.warning("sign-in refused: too many failures from %s (any user name)", ip)
        raise SignInRefused(
            "Too many failed sign-ins from this address. Try again later.", rate_limited=True
        )
    user = find_user(session, name)
    if user is not None and user.disabled_at is not None:
        user = None  # a disabled user fails like a wrong password, after the same work
    if not verify_password(user.password_hash if user else None, password) or user is None:
        log.warning("failed sign-in for %s from %s", mask(name), ip)
        audit(
            session,
            now,
            _actor(ip),
            SIGN_IN_FAILED,
            subject=key,
            detail={"name": mask(name), "ip": ip},
        )
        raise SignInRefused("Wrong user name or password.")
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    audit(session, now, f"agent:{user.name}", "auth.sign_in", subject=f"user:{user.id}")
    return user


def start_session(session: Session, now: datetime, user: User, lifetime: timedelta) -> str:
    token = new_token()
    session.add(
        UserSession(
            token_hash=token_digest(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def session_user(session: Session, token: str, now: datetime) -> User | None:
    row = session.execute(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.token_hash == token_digest(token),
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > now,
            User.disabled_at.is_(None),
        )
    ).scalar_one_or_none()
    return row


def end_session(session: Session, now: datetime, token: str, user: User) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.token_hash == token_digest(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    audit(session, now, f"agent:{user.name}", "auth.sign_out", subject=f"user:{user.id}")


def api_token_user(session: Session, token: str, now: datetime) -> User | None:
    found = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.token_hash == token_digest(token),
            ApiToken.revoked_at.is_(None),
            User.disabled_at.is_(None),
        )
    ).first()
    if found is None:
        return None
    api_token, user = found
    if api_token.last_used_at is None or now - api_token.last_used_at > _TOKEN_TOUCH:
        api_token.last_used_at = now
    return user
