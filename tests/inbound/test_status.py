"""A send marked unknown that Twilio then reports, through a signed status callback: it ends
sent or delivered with no stale "outcome unknown" text and keeps (or gets) its send time; a
failure report carries Twilio's error code instead."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from outreach.config.loader import Config
from outreach.db.models import Message, MessageEvent
from outreach.runtime import Runtime
from tests.factories import add_debtor
from tests.unknowns_helpers import add_unknown

PATH = "/webhooks/twilio/status"


async def callback(
    client: httpx.AsyncClient, config: Config, sid: str, status: str, **extra: str
) -> None:
    form = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "0" * 32, **extra}
    token = config.twilio_credentials[1]
    signature = RequestValidator(token).compute_signature(config.public_url + PATH, form)
    response = await client.post(PATH, data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200, response.text


def _unknown(runtime: Runtime, sid: str, *, sent_at_known: bool = True) -> int:
    handed_over = runtime.clock.now() - timedelta(minutes=10)
    debtor, account = add_debtor(runtime.factory, handed_over)
    message_id = add_unknown(runtime.factory, handed_over, debtor, account, provider_id=sid)
    if not sent_at_known:
        with runtime.factory.begin() as session:
            session.get_one(Message, message_id).sent_at = None
    return message_id


async def test_a_confirmed_unknown_send_loses_its_stale_error(
    client: httpx.AsyncClient, config: Config, runtime: Runtime
) -> None:
    sid = "SM" + "1" * 32
    message_id = _unknown(runtime, sid)
    await callback(client, config, sid, "sent")
    with runtime.factory() as session:
        m = session.get_one(Message, message_id)
        sent = (m.state, m.error_code, m.error_message, m.sent_at)
    handed_over = runtime.clock.now() - timedelta(minutes=10)
    assert sent == ("sent", None, None, handed_over)
    await callback(client, config, sid, "delivered")
    with runtime.factory() as session:
        m = session.get_one(Message, message_id)
        events = session.execute(
            select(MessageEvent.from_state, MessageEvent.to_state)
            .where(MessageEvent.message_id == message_id)
            .order_by(MessageEvent.id)
        ).all()
    assert (m.state, m.error_message) == ("delivered", None)
    assert [tuple(e) for e in events][-2:] == [("unknown", "sent"), ("sent", "delivered")]


async def test_a_delivered_report_gives_a_send_time_when_none_was_kept(
    client: httpx.AsyncClient, config: Config, runtime: Runtime
) -> None:
    sid = "SM" + "2" * 32
    message_id = _unknown(runtime, sid, sent_at_known=False)
    await callback(client, config, sid, "delivered")
    with runtime.factory() as session:
        m = session.get_one(Message, message_id)
    assert (m.state, m.error_message, m.sent_at) == ("delivered", None, runtime.clock.now())


async def test_a_failure_report_replaces_the_unknown_text_with_twilios_code(
    client: httpx.AsyncClient, config: Config, runtime: Runtime
) -> None:
    sid = "SM" + "3" * 32
    message_id = _unknown(runtime, sid)
    await callback(client, config, sid, "undelivered", ErrorCode="30003")
    with runtime.factory() as session:
        m = session.get_one(Message, message_id)
    assert (m.state, m.error_code, m.error_message) == (
        "undelivered",
        "30003",
        "Unreachable destination handset",
    )
