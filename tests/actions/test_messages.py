"""Messages planned outside a campaign go through the same checks and sending."""

from __future__ import annotations

from sqlalchemy import Engine

from outreach.actions.messages import plan_message
from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.models import Message
from outreach.vocabulary import MessageState
from tests.factories import add_debtor
from tests.pipeline_harness import running_pipeline


async def test_a_message_planned_outside_any_campaign_is_checked_and_sent(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    """Ad-hoc messages (promise follow-ups) go through the same dispatcher and rules."""
    async with running_pipeline(config, engine, clock) as pipeline:
        factory = pipeline.runtime.factory
        debtor_id, account_id = add_debtor(factory, clock.now())
        with factory.begin() as session:
            message_id = plan_message(
                session,
                clock.now(),
                debtor_id=debtor_id,
                account_id=account_id,
                channel="sms",
                template="sms/reminder",
                kind="promise_followup",
                step_id="promise-1",
                due_at=clock.now(),
                cause="test",
            )
        await pipeline.dispatcher().run_until_idle()
        with factory() as session:
            message = session.get_one(Message, message_id)
            assert message.state == MessageState.SENT, message.error_message
            assert message.to_address == "+12125550143"
        assert len(pipeline.sandbox.twilio.requests) == 1
