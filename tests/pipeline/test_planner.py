"""The planner over more accounts and enrollments than one chunk: each account enrolled once in
the first matching campaign, each due step planned once with its event, enrollments moved on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.engine import session_factory
from outreach.db.models import CampaignRow, Enrollment, Message, MessageEvent
from outreach.pipeline import planner
from tests.factories import add_debtor


def test_chunks_plan_every_account_once(
    monkeypatch: pytest.MonkeyPatch, config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    monkeypatch.setattr(planner, "CHUNK", 3)
    factory = session_factory(engine)
    campaigns = config.campaigns
    for i in range(8):
        add_debtor(factory, clock.now(), last=f"Chunk{i}", tags=["hardship"] if i == 5 else [])

    first = planner.tick(factory, campaigns, clock)
    assert (first.enrolled, first.planned, first.completed) == (8, 8, 0)
    assert planner.tick(factory, campaigns, clock) == planner.PlanReport()  # nothing new

    clock.advance(timedelta(days=1, minutes=1))
    second = planner.tick(factory, campaigns, clock)
    with factory() as s:
        enrollments = s.execute(
            select(Enrollment.status, Enrollment.next_step, Enrollment.next_due_at)
        ).all()
        by_step = dict(
            s.execute(select(Message.step_id, func.count()).group_by(Message.step_id)).all()
        )
        events = s.scalar(select(func.count()).select_from(MessageEvent))
        per_campaign = dict(
            s.execute(
                select(CampaignRow.name, func.count())
                .join(Enrollment, Enrollment.campaign_id == CampaignRow.id)
                .group_by(CampaignRow.name)
            ).all()
        )
    assert second.planned == sum(by_step.values()) - 8
    assert by_step["validation-notice"] == 8 and by_step["first-email"] == 7
    assert per_campaign == {"standard": 7, "hardship": 1}  # the first match by priority
    assert events == sum(by_step.values())  # one "planned" event per message, no more
    assert {status for status, _, _ in enrollments} == {"active"}
    assert all(due is not None and due > clock.now() for _, _, due in enrollments)

    clock.advance(timedelta(days=365))  # every enrollment's next step is due
    stopped = planner.tick(factory, {}, clock)  # and every campaign file removed
    assert stopped.planned == 0
    with factory() as s:
        rows = s.execute(select(Enrollment.status, Enrollment.stop_reason)).all()
    assert {tuple(r) for r in rows} == {("stopped", "campaign file removed")}
