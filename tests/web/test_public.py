"""The pages behind links in messages: unsubscribe (a person's confirm button, RFC 8058 one-click),
and the dispute form."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from outreach.clock import SimulatedClock
from outreach.db.casework import AuditEvent, Task
from outreach.db.models import ContactPoint, Hold, InboundMessage
from outreach.runtime import Runtime
from tests.factories import add_debtor


def email_points(runtime: Runtime) -> list[ContactPoint]:
    with runtime.factory() as session:
        return list(session.scalars(select(ContactPoint).where(ContactPoint.kind == "email")))


async def test_a_person_confirms_on_the_page(
    client: httpx.AsyncClient, runtime: Runtime, clock: SimulatedClock
) -> None:
    add_debtor(runtime.factory, clock.now())
    [point] = email_points(runtime)
    path = runtime.links.unsubscribe(point.id, 7).removeprefix(runtime.links.base_url)
    page = await client.get(path)
    assert page.status_code == 200
    assert '<form method="post">' in page.text and "*****@example.com" not in page.text
    assert "*************.com" in page.text  # masked address
    assert email_points(runtime)[0].opted_out_at is None  # a GET changes nothing
    done = await client.post(path, data={"confirm": "yes"})
    assert done.status_code == 200 and "will receive no more email" in done.text
    [point] = email_points(runtime)
    assert point.opted_out_at == clock.now() and point.consent == "revoked"
    with runtime.factory() as session:
        inbound = session.scalars(select(InboundMessage)).one()
        audit = session.scalars(select(AuditEvent)).one()
    assert (inbound.channel, inbound.intent, inbound.body) == (
        "email",
        "opt_out",
        "unsubscribe page",
    )
    assert audit.action == "contact.opt_out" and audit.detail["reason"].endswith("(message 7)")


async def test_one_click_opts_out_every_debtor_with_the_address(
    client: httpx.AsyncClient, runtime: Runtime, clock: SimulatedClock
) -> None:
    add_debtor(runtime.factory, clock.now())
    add_debtor(runtime.factory, clock.now(), first="Luis")  # the same address
    point = email_points(runtime)[0]
    path = runtime.links.unsubscribe(point.id, 1).removeprefix(runtime.links.base_url)
    response = await client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert all(p.opted_out_at is not None for p in email_points(runtime))


@pytest.mark.parametrize(
    ("path", "status"),
    [("/u/not-a-token", 400), ("/pay/forged.token", 400), ("/dispute/x", 400)],
)
async def test_bad_links_get_an_error_page(
    client: httpx.AsyncClient, path: str, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.get(path)
    assert response.status_code == status and "not valid" in response.text
    assert "bad link" in caplog.text


async def test_a_link_to_a_deleted_address_is_a_404(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    path = runtime.links.unsubscribe(999, 1).removeprefix(runtime.links.base_url)
    assert (await client.post(path, data={"List-Unsubscribe": "One-Click"})).status_code == 404


async def test_the_dispute_form_records_a_dispute(
    client: httpx.AsyncClient, runtime: Runtime, clock: SimulatedClock
) -> None:
    debtor_id, account_id = add_debtor(runtime.factory, clock.now())
    path = runtime.links.dispute(account_id).removeprefix(runtime.links.base_url)
    form = await client.get(path)
    assert form.status_code == 200 and 'name="reason"' in form.text
    assert (await client.post(path, data={"reason": "Paid in 2024"})).status_code == 200
    with runtime.factory() as session:
        hold = session.scalars(select(Hold)).one()
        task = session.scalars(select(Task)).one()
    assert (hold.kind, hold.account_id, hold.debtor_id) == ("dispute", account_id, debtor_id)
    assert hold.reason == "dispute page: Paid in 2024" and task.kind == "review"
