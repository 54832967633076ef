"""A promise by SMS whose amount the money columns cannot hold (11 digits before the cents
on PostgreSQL, 27 on SQLite) is refused like any unclear promise: the reply asks for the
format, the message waits in the inbox. Before, it was a 500 and the reply was lost."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.casework import Promise
from outreach.db.models import InboundMessage
from outreach.runtime import Runtime
from tests.factories import add_debtor
from tests.web.test_webhooks import count, post_signed, replies, sms_form


@pytest.mark.parametrize("amount", ["12345678901", "1" * 27])
async def test_a_promise_too_large_to_store_goes_to_the_inbox(
    client: httpx.AsyncClient,
    config: Config,
    runtime: Runtime,
    clock: SimulatedClock,
    amount: str,
) -> None:
    add_debtor(runtime.factory, clock.now())
    response = await post_signed(
        client, config, "/webhooks/twilio/sms", sms_form(f"I can pay ${amount} on Friday")
    )
    [reply] = replies(response)
    assert count(runtime, Promise) == 0
    with runtime.factory() as session:
        inbound = session.scalars(select(InboundMessage)).one()
    assert inbound.needs_agent and "promise refused" in (inbound.action or "")
    assert "below 10,000,000,000" in (inbound.action or "")
    assert reply  # the format reply, sent rather than lost
