"""The shared rate limit and the breaker rows, as every worker sees them in the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

import outreach.db.models  # noqa: F401 - the audit table's foreign keys
from outreach.db.casework import AuditEvent
from outreach.db.engine import session_factory
from outreach.pipeline import health, pacing
from outreach.pipeline.breaker import BreakerRules
from outreach.pipeline.health import Provider, Result

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
SMS = Provider("sms:+15005550006", "sms", 10.0)


def test_reservations_from_separate_sessions_never_share_a_slot(engine: Engine) -> None:
    factory = session_factory(engine)
    slots: list[float] = []
    for _ in range(3):  # three workers, one after the other
        with factory.begin() as session:
            slots += pacing.reserve(session, SMS.key, 10.0, 4, 1000.0)
    assert slots == pytest.approx([1000.0 + i / 10 for i in range(12)])


def test_retry_after_blocks_every_later_reservation(engine: Engine) -> None:
    factory = session_factory(engine)
    with factory.begin() as session:
        pacing.block(session, SMS.key, 1010.0, 1000.0)
    with factory.begin() as session:
        assert pacing.reserve(session, SMS.key, 10.0, 2, 1001.0) == pytest.approx([1010, 1010.1])
        assert pacing.blocked_until(session, SMS.key) == 1010.0


def test_a_slot_is_never_in_the_past(engine: Engine) -> None:
    factory = session_factory(engine)
    with factory.begin() as session:
        pacing.reserve(session, SMS.key, 10.0, 1, 1000.0)
    with factory.begin() as session:  # a minute later the old slots are gone
        assert pacing.reserve(session, SMS.key, 10.0, 1, 1060.0) == [1060.0]


def test_breaker_rows_are_shared_audited_and_limit_claims(engine: Engine) -> None:
    factory = session_factory(engine)
    rules = BreakerRules(consecutive_failures=2, open_seconds=10)
    with factory.begin() as session:
        assert health.admission(session, [SMS.key], NOW) == {SMS.key: None}
        row = health.lock(session, SMS, NOW)
        assert health.admit(session, row, 5, "w1", NOW, rules) == 5
        health.report(session, row, [Result(True, "500: down")] * 2, "w1", NOW, rules)
    with factory.begin() as session:  # another worker sees it open
        assert health.admit(session, health.lock(session, SMS, NOW), 5, "w2", NOW, rules) == 0
        assert health.admission(session, [SMS.key], NOW) == {SMS.key: 0}
    later = NOW + timedelta(seconds=10)
    with factory.begin() as session:
        assert health.admission(session, [SMS.key], later) == {SMS.key: 1}
        row = health.lock(session, SMS, later)
        assert health.admit(session, row, 5, "w2", later, rules) == 1  # w2's trial
        assert health.admit(session, row, 5, "w1", later, rules) == 0
        assert not health.still_admits(row, "w1") and health.still_admits(row, "w2")
        health.report(session, row, [Result(False)], "w2", later, rules)
    with factory.begin() as session:
        assert health.admit(session, health.lock(session, SMS, later), 5, "w1", later, rules) == 5
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.subject == SMS.key).order_by(AuditEvent.id)
        ).all()
    assert actions == ["breaker_open", "breaker_half_open", "breaker_closed"]
