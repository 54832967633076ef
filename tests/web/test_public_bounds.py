"""A debtor's dispute is recorded whatever the form carries: text PostgreSQL cannot store (a
NUL character) is dropped, not a 500 that loses the dispute."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from outreach.clock import SimulatedClock
from outreach.db.models import Hold, InboundMessage
from outreach.runtime import Runtime
from tests.factories import add_debtor


async def test_a_dispute_with_a_nul_character_is_recorded_without_it(
    client: httpx.AsyncClient, runtime: Runtime, clock: SimulatedClock
) -> None:
    _, account_id = add_debtor(runtime.factory, clock.now())
    path = runtime.links.dispute(account_id).removeprefix(runtime.links.base_url)
    response = await client.post(path, data={"reason": "not\x00 mine"})
    assert response.status_code == 200
    with runtime.factory() as session:
        hold = session.scalars(select(Hold)).one()
        inbound = session.scalars(select(InboundMessage)).one()
    assert hold.reason == "dispute page: not mine" and inbound.body == "not mine"


async def test_a_file_where_the_reason_belongs_records_the_dispute_without_one(
    client: httpx.AsyncClient, runtime: Runtime, clock: SimulatedClock
) -> None:
    _, account_id = add_debtor(runtime.factory, clock.now())
    path = runtime.links.dispute(account_id).removeprefix(runtime.links.base_url)
    response = await client.post(path, files={"reason": ("r.txt", b"hello")})
    assert response.status_code == 200
    with runtime.factory() as session:
        assert session.scalars(select(Hold.reason)).one() == "dispute page"
