"""Password hashes (argon2), random tokens and their digests, CSRF tokens, constant-time
comparison."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

log = logging.getLogger(__name__)


MIN_PASSWORD = 10


hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return hasher.hash(password)


@cache
def _dummy_hash() -> str:
    return hasher.hash(secrets.token_urlsafe(16))


def verify_password(stored: str | None, password: str) -> bool:
    """Constant work whether or not the user exists (`stored` None): no name probing by time."""
    try:
        return hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(secret_key: str, session_digest: str) -> str:
    """The CSRF token of a signed-in browser: bound to its session, useless in any other."""
    return hmac.new(secret_key.encode(), b"csrf:" + session_digest.encode(), "sha256").hexdigest()


def same_secret(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())
