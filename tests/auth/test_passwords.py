"""Password hashes (argon2) verify, and never for an unknown user or a broken hash."""

from __future__ import annotations

from outreach.auth.passwords import hash_password, verify_password


def test_passwords_are_argon2_hashes_and_verify() -> None:
    stored = hash_password("s3cret-enough")
    assert stored.startswith("$argon2id$") and "s3cret" not in stored
    assert verify_password(stored, "s3cret-enough")
    assert not verify_password(stored, "s3cret-enougH")
    assert not verify_password(None, "anything")  # unknown user: same work, never true
    assert not verify_password("not a hash", "anything")
