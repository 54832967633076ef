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


async def test_a_signed_link_to_an_id_past_64_bits_is_not_valid(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """With the sandbox's key, which anyone may know, such links can be signed: they were a
    500 (the id overflowed the database's integer) on every public page."""
    links = runtime.links
    big = 10**20
    paths = [links.pay(big), links.dispute(big), links.unsubscribe(big, 1), links.pay(0)]
    for url in paths:
        path = url.removeprefix(links.base_url)
        for method in ("GET", "POST"):
            if method == "POST" and "/pay/" in path:
                continue  # the payment page is read-only
            response = await client.request(method, path)
            assert response.status_code == 400, (method, path, response.status_code)
            assert "This link is not valid" in response.text
