"""Shared values for the compliance tests: the shipped policy and a few debtors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from outreach.compliance import Contact, Policy
from outreach.config.files import load_yaml_model
from tests.conftest import CONFIG_DIR

SHIPPED = load_yaml_model(CONFIG_DIR / "policy.yaml", Policy)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def contacts(
    now: datetime, *spec: tuple[str, float], account_id: int = 1, kind: str = "attempt"
) -> tuple[Contact, ...]:
    """(channel, days before now) pairs as history."""
    return tuple(
        Contact(now - timedelta(days=days), channel, kind, account_id)  # type: ignore[arg-type]
        for channel, days in spec
    )
