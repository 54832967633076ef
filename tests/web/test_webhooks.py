"""Twilio webhooks through the ASGI app with a real database: signatures computed by twilio's
own RequestValidator, replays, bad forms, every intent's reply and state change, and status
callbacks arriving out of order."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlencode
from xml.etree import ElementTree

import httpx
import pytest
from sqlalchemy import ColumnElement, func, select
from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import RequestValidator

from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.casework import AuditEvent, Promise, Task
from outreach.db.models import ContactPoint, Hold, InboundMessage, Message, MessageEvent
from outreach.db.types import Base
from outreach.runtime import Runtime
from outreach.vocabulary import MessageState
from outreach.web.app import create_app
from tests.factories import PHONE, add_debtor, add_sent_sms

ACCOUNT_SID = "AC" + "0" * 32  # the sandbox account's (config.twilio_credentials)
_sids = itertools.count(1)


def new_sid() -> str:
    return f"SM{next(_sids):032x}"


def sign(config: Config, path: str, params: dict[str, str]) -> str:
    """The X-Twilio-Signature Twilio computes for the URL it was configured with."""
    token = config.twilio_credentials[1]
    signature: str = RequestValidator(token).compute_signature(config.public_url + path, params)
    return signature


def sms_form(body: str, sender: str = PHONE, **extra: str) -> dict[str, str]:
    return {
        "MessageSid": extra.pop("MessageSid", new_sid()),
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        **extra,
    }


def status_form(sid: str, status: str, **extra: str) -> dict[str, str]:
    return {"MessageSid": sid, "MessageStatus": status, "AccountSid": ACCOUNT_SID, **extra}


async def post_signed(
    client: httpx.AsyncClient, config: Config, path: str, form: dict[str, str]
) -> httpx.Response:
    return await client.post(
        path, data=form, headers={"X-Twilio-Signature": sign(config, path, form)}
    )


def replies(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = ElementTree.fromstring(response.text)
    assert root.tag == "Response"
    return [m.text or "" for m in root.findall("Message")]


def phone_opted_out(runtime: Runtime) -> bool:
    """Whether add_debtor's mobile number is opted out."""
    with runtime.factory() as session:
        points = session.scalars(select(ContactPoint).where(ContactPoint.value == PHONE)).all()
    assert points
    return all(p.opted_out_at is not None for p in points)


def count(runtime: Runtime, model: type[Base], *where: ColumnElement[bool]) -> int:
    with runtime.factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


# --- security and malformed requests -----------------------------------------------------------


async def test_missing_and_bad_signatures_are_refused_and_change_nothing(
    client: httpx.AsyncClient, config: Config, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    form = sms_form("STOP")
    missing = await client.post("/webhooks/twilio/sms", data=form)
    assert missing.status_code == 403
    forged = await client.post(
        "/webhooks/twilio/sms", data=form, headers={"X-Twilio-Signature": "Zm9yZ2Vk"}
    )
    assert forged.status_code == 403
    # Signed for other parameters: the body was tampered with.
    signature = sign(config, "/webhooks/twilio/sms", {**form, "Body": "hello"})
    tampered = await client.post(
        "/webhooks/twilio/sms", data=form, headers={"X-Twilio-Signature": signature}
    )
    assert tampered.status_code == 403
    status = await client.post("/webhooks/twilio/status", data={"MessageSid": "SMx"})
    assert status.status_code == 403
    assert count(runtime, InboundMessage) == 0
    assert "no X-Twilio-Signature" in caplog.text and "bad signature" in caplog.text


async def test_a_long_query_is_refused_before_the_signature_is_checked(
    client: httpx.AsyncClient, config: Config, runtime: Runtime
) -> None:
    """Twilio calls the URL we configured: 5,000 query parameters are no webhook of ours,
    and checking their signature would parse them all on the event loop first."""
    form = sms_form("STOP")
    path = "/webhooks/twilio/sms?" + "&".join(f"p{i}=1" for i in range(5_000))
    response = await post_signed(client, config, path, form)
    assert response.status_code == 414, response.text
    assert "query string over" in response.json()["detail"]
    unsigned = await client.post(path, data=form)
    assert unsigned.status_code == 414, unsigned.text
    assert count(runtime, InboundMessage) == 0
    short = await post_signed(client, config, "/webhooks/twilio/sms?source=a", sms_form("HELP"))
    assert short.status_code == 200


async def test_signature_is_checked_against_the_public_url_not_the_host_header(
    client: httpx.AsyncClient, config: Config
) -> None:
    form = sms_form("HELP")
    token = config.twilio_credentials[1]
    as_seen_here = RequestValidator(token).compute_signature(
        "http://testserver/webhooks/twilio/sms", form
    )
    response = await client.post(
        "/webhooks/twilio/sms", data=form, headers={"X-Twilio-Signature": as_seen_here}
    )
    assert response.status_code == 403


async def test_forwarded_headers_count_only_when_the_proxy_is_trusted(
    config: Config, runtime: Runtime
) -> None:
    form = sms_form("HELP")
    token = config.twilio_credentials[1]
    signature = RequestValidator(token).compute_signature(
        "https://sms.example.org/webhooks/twilio/sms", form
    )
    headers = {
        "X-Twilio-Signature": signature,
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "sms.example.org",
    }
    for trust, expected in ((False, 403), (True, 200)):
        config.file = config.file.model_copy(
            update={"web": config.file.web.model_copy(update={"trust_proxy": trust})}
        )
        app = create_app(runtime, self_url="http://127.0.0.1:1", run_worker=False)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://internal:8000"
        ) as c:
            response = await c.post("/webhooks/twilio/sms", data=form, headers=headers)
        assert response.status_code == expected
        form = sms_form("HELP")
        signature = RequestValidator(token).compute_signature(
            "https://sms.example.org/webhooks/twilio/sms", form
        )
        headers["X-Twilio-Signature"] = signature


@pytest.mark.parametrize("missing", ["MessageSid", "From", "Body"])
async def test_a_missing_field_is_a_400_naming_it(
    client: httpx.AsyncClient, config: Config, runtime: Runtime, missing: str
) -> None:
    form = sms_form("HELP")
    del form[missing]
    response = await post_signed(client, config, "/webhooks/twilio/sms", form)
    assert response.status_code == 400
    assert missing in response.json()["detail"]
    assert count(runtime, InboundMessage) == 0


async def test_a_body_that_is_not_a_form_is_a_400(
    client: httpx.AsyncClient, config: Config
) -> None:
    response = await client.post(
        "/webhooks/twilio/sms",
        json={"Body": "STOP"},
        headers={"X-Twilio-Signature": sign(config, "/webhooks/twilio/sms", {})},
    )
    assert response.status_code == 400


# --- forms Twilio never sends ------------------------------------------------------------------


def _pairs(form: dict[str, str], *extra: tuple[str, str]) -> list[tuple[str, str]]:
    return [*form.items(), *extra]


async def post_pairs(
    client: httpx.AsyncClient, config: Config, path: str, pairs: list[tuple[str, str]]
) -> httpx.Response:
    """A form with repeated keys, signed over every value as Twilio's validator reads them."""
    token = config.twilio_credentials[1]
    signature = RequestValidator(token).compute_signature(
        config.public_url + path, ImmutableMultiDict(pairs)
    )
    return await client.post(
        path,
        content=urlencode(pairs),
        headers={
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )


OTHER_ACCOUNT = "AC" + "1" * 32


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"Foo": "bar"}, "unknown form field(s): Foo"),
        ({"AccountSid": OTHER_ACCOUNT}, "AccountSid is not this installation's"),
        ({"AccountSid": "AC123"}, "AccountSid: not in Twilio's format"),
        ({"MessageSid": "SM" + "a" * 200}, "MessageSid: longer than 34"),
        ({"MessageSid": "SMnot-hex-but-34-characters-long!!"}, "MessageSid: not in Twilio's"),
        ({"MessagingServiceSid": "MG42"}, "MessagingServiceSid: not in Twilio's format"),
        ({"SmsSid": "SM" + "f" * 32}, "SmsSid differs from MessageSid"),
        ({"From": "+1" + "2" * 400}, "From: longer than"),
        ({"From": "+1212555\x000143"}, "From: not in Twilio's format"),
        ({"From": "debtor@example.org"}, "From: not in Twilio's format"),
        ({"To": "+1" + "5" * 400}, "To: longer than"),
        ({"OptOutType": "MAYBE"}, "OptOutType: not in Twilio's format"),
        ({"NumMedia": "x1"}, "NumMedia: not in Twilio's format"),
    ],
)
async def test_a_form_twilio_would_not_send_is_a_400_and_stores_nothing(
    client: httpx.AsyncClient,
    config: Config,
    runtime: Runtime,
    clock: SimulatedClock,
    change: dict[str, str],
    reason: str,
) -> None:
    add_debtor(runtime.factory, clock.now())
    form = {**sms_form("STOP"), **change}
    response = await post_signed(client, config, "/webhooks/twilio/sms", form)
    assert response.status_code == 400, response.text
    assert reason in response.json()["detail"]
    assert count(runtime, InboundMessage) == 0
    assert not phone_opted_out(runtime)


async def test_a_repeated_field_is_a_400_even_when_signed(
    client: httpx.AsyncClient, config: Config, runtime: Runtime
) -> None:
    pairs = _pairs(sms_form("hello"), ("Body", "START"))
    response = await post_pairs(client, config, "/webhooks/twilio/sms", pairs)
    assert response.status_code == 400
    assert response.json()["detail"] == "duplicated form field(s): Body"
    assert count(runtime, InboundMessage) == 0


async def test_status_callbacks_are_checked_the_same_way(
    client: httpx.AsyncClient, config: Config, runtime: Runtime, clock: SimulatedClock
) -> None:
    sid = new_sid()
    message_id = add_sent_sms(runtime.factory, clock.now(), sid)
    for form in (
        status_form(sid, "undelivered", ErrorCode="21610", AccountSid=OTHER_ACCOUNT),
        status_form(sid, "undelivered", ErrorCode="21610; DROP TABLE messages"),
        status_form(sid, "undelivered", ErrorCode="21610", Body="STOP"),
        {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "21610"},
    ):
        response = await post_signed(client, config, "/webhooks/twilio/status", form)
        assert response.status_code == 400, form
    pairs = _pairs(status_form(sid, "undelivered"), ("MessageStatus", "delivered"))
    assert (await post_pairs(client, config, "/webhooks/twilio/status", pairs)).status_code == 400
    with runtime.factory() as session:
        message = session.get(Message, message_id)
        assert message is not None and message.state == MessageState.SENT
    assert not phone_opted_out(runtime)


async def test_a_nul_in_the_body_is_dropped_and_the_message_stored_and_applied(
    client: httpx.AsyncClient, config: Config, runtime: Runtime, clock: SimulatedClock
) -> None:
    add_debtor(runtime.factory, clock.now())
    form = sms_form("ST\x00OP\x00", ProfileName="Ana\x00")
    [reply] = replies(await post_signed(client, config, "/webhooks/twilio/sms", form))
    assert "unsubscribed" in reply
    with runtime.factory() as session:
        inbound = session.scalars(select(InboundMessage)).one()
        opted = session.scalars(
            select(ContactPoint.opted_out_at).where(ContactPoint.kind == "phone")
        ).one()
    assert inbound.body == "STOP" and inbound.intent == "opt_out" and opted is not None
    assert inbound.raw is not None and inbound.raw["form"]["ProfileName"] == "Ana"


# --- replays ------------------------------------------------------------------------------------


async def test_a_retried_message_sid_is_processed_once(
    client: httpx.AsyncClient, config: Config, runtime: Runtime, clock: SimulatedClock
) -> None:
    add_debtor(runtime.factory, clock.now())
    form = sms_form("CALL")
    first = replies(await post_signed(client, config, "/webhooks/twilio/sms", form))
    again = replies(await post_signed(client, config, "/webhooks/twilio/sms", form))
    assert first == again and len(first) == 1
    assert count(runtime, InboundMessage) == 1
    assert count(runtime, Task, Task.kind == "callback") == 1
    assert count(runtime, Message, Message.kind == "reply") == 1


async def test_a_message_sid_recut_from_the_service_sid_is_refused(
    client: httpx.AsyncClient, config: Config, runtime: Runtime, clock: SimulatedClock
) -> None:
    """Keys and values are signed without separators: MessageSid + MessagingServiceSid
    folded into one value keeps the signature, under a SID never seen."""
    add_debtor(runtime.factory, clock.now())
    captured = sms_form("START", MessagingServiceSid="MG" + "4" * 32)
    signature = sign(config, "/webhooks/twilio/sms", captured)
    assert replies(await post_signed(client, config, "/webhooks/twilio/sms", sms_form("STOP")))
    recut = {k: v for k, v in captured.items() if k != "MessagingServiceSid"}
    recut["MessageSid"] = captured["MessageSid"] + "MessagingServiceSid" + "MG" + "4" * 32
    assert sign(config, "/webhooks/twilio/sms", recut) == signature
    response = await client.post(
        "/webhooks/twilio/sms", data=recut, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 400 and "MessageSid" in response.json()["detail"]
    assert count(runtime, InboundMessage) == 1
    assert phone_opted_out(runtime)


async def test_a_new_sid_under_a_seen_signature_is_refused_so_stop_stays(
    client: httpx.AsyncClient, config: Config, runtime: Runtime, clock: SimulatedClock
) -> None:
    """A re-cut that every field's format allows (a free-text field carries the new SID):
    only the signature, kept with the message, tells it from a message Twilio made."""
    add_debtor(runtime.factory, clock.now())
    new = "SM" + "e" * 32
    captured = sms_form("START", Longitude=f"-73.9MessageSid{new}ProfileNameAna")
    del captured["NumMedia"], captured["NumSegments"]  # keys that sort before ProfileName
    signature = sign(config, "/webhooks/twilio/sms", captured)
    first = await client.post(
        "/webhooks/twilio/sms", data=captured, headers={"X-Twilio-Signature": signature}
    )
    assert first.status_code == 200
    assert replies(await post_signed(client, config, "/webhooks/twilio/sms", sms_form("STOP")))
    recut = {
        **{k: v for k, v in captured.items() if k != "MessageSid"},
        "Longitude": "-73.9",
        "MessageSid": new,
        "ProfileName": f"AnaMessageSid{captured['MessageSid']}",
    }
    assert sign(config, "/webhooks/twilio/sms", recut) == signature
    response = await client.post(
        "/webhooks/twilio/sms", data=recut, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 403 and "already used" in response.json()["detail"]
    # The captured START itself is a replay: answered as before, applied never again.
    again = await client.post(
        "/webhooks/twilio/sms", data=captured, headers={"X-Twilio-Signature": signature}
    )
    assert replies(again) == replies(first)
    assert count(runtime, InboundMessage) == 2
    assert phone_opted_out(runtime)


# --- intents ------------------------------------------------------------------------------------


async def test_stop_opts_out_every_debtor_with_the_number_and_confirms_once(
    client: httpx.AsyncClient, config: Config, runtime: Runtime, clock: SimulatedClock
) -> None:
    debtor_a, _ = add_debtor(runtime.factory, clock.now())
    add_debtor(runtime.factory, clock.now(), first="Luis")  # same phone, another debtor
    clock.advance(timedelta(hours=13))  # 23:00 in New York: outside the contact window
    first = replies(await post_signed(client, config, "/webhooks/twilio/sms", sms_form("Stop")))
    assert first == [
        "Example Recovery Services LLC: You are unsubscribed and will receive no more text"
        " messages from us."
    ]
    second = replies(await post_signed(client, config, "/webhooks/twilio/sms", sms_form("STOP")))
    plain = replies(
        await post_signed(client, config, "/webhooks/twilio/sms", sms_form("stop texting me"))
    )
    assert second == [] and plain == []  # never a second confirmation
    with runtime.factory() as session:
        points = session.scalars(select(ContactPoint).where(ContactPoint.value == PHONE)).all()
        assert len(points) == 2 and all(p.opted_out_at == clock.now() for p in points)
        [confirmation] = session.scalars(
            select(Message).where(Message.kind == "opt_out_confirmation")
        ).all()
        inbound = session.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
    assert confirmation.state == MessageState.SENT
    assert confirmation.in_reply_to_id == inbound[0].id
    assert confirmation.to_address == PHONE and confirmation.body == first[0]
    assert confirmation.campaign is None and confirmation.debtor_id == debtor_a
    assert [i.intent for i in inbound] == ["opt_out"] * 3
    assert inbound[1].action == "already opted out"


async def test_no_confirmation_when_the_provider_sends_its_own(
    client: httpx.AsyncClient, config: Config, runtime: Runtime, clock: SimulatedClock
) -> None:
    add_debtor(runtime.factory, clock.now())
    form = sms_form("STOP", OptOutType="STOP")
    assert replies(await post_signed(client, config, "/webhooks/twilio/sms", form)) == []
    with runtime.factory() as session:
        point = session.scalars(select(ContactPoint).where(ContactPoint.value == PHONE)).one()
    assert point.opted_out_at is not None


async def test_start_clears_the_sms_opt_out_only(
    client: httpx.AsyncClient, config: Config, runtime: Runtime, clock: SimulatedClock
) -> None:
    add_debtor(runtime.factory, clock.now())
    with runtime.factory.begin() as session:
        for point in session.scalars(select(ContactPoint)):
            point.opted_out_at = clock.now()
    [reply] = replies(await post_signed(client, config, "/webhooks/twilio/sms", sms_form("START")))
    assert "Reply HELP for help, STOP to opt out" in reply
    with runtime.factory() as session:
        opted = {p.kind: p.opted_out_at for p in session.scalars(select(ContactPoint))}
    assert opted["phone"] is None and opted["email"] is not None


async def test_help_has_the_ctia_items(
    client: httpx.AsyncClient, config: Config, runtime: Runtime, clock: SimulatedClock
) -> None:
    add_debtor(runtime.factory, clock.now())
    [reply] = replies(await post_signed(client, config, "/webhooks/twilio/sms", sms_form("HELP")))
    for item in (
        "Example Recovery Services LLC",
        "(800) 555-0199",
        "Reply STOP to opt out",
        "Msg frequency varies",
        "Msg & data rates may apply",
    ):
        assert item in reply


async def test_pay_replies_with_a_signed_expiring_link(
    client: httpx.AsyncClient, config: Config, runtime: Runtime, clock: SimulatedClock
) -> None:
    _, account_id = add_debtor(runtime.factory, clock.now())
    [reply] = replies(await post_signed(client, config, "/webhooks/twilio/sms", sms_form("PAY")))
    url = next(w for w in reply.split() if w.startswith(config.public_url + "/pay/"))
    assert runtime.links.read("pay", url.rsplit("/", 1)[1]) == {"a": account_id}
    assert "****0" in reply and "This communication is from a debt collector." in reply
    page = await client.get(url.removeprefix(config.public_url))
    assert page.status_code == 200 and "$812.40" in page.text
    assert "pay.example-recovery.test" in page.text


async def test_dispute_holds_every_open_account(
    client: httpx.AsyncClient, config: Config, runtime: Runtime, clock: SimulatedClock
) -> None:
    debtor_id, account_id = add_debtor(runtime.factory, clock.now())
    [reply] = replies(
        await post_signed(client, config, "/webhooks/twilio/sms", sms_form("not my debt"))
    )
    assert "recorded your dispute" in reply
    with runtime.factory() as session:
        hold = session.scalars(select(Hold)).one()
        inbound = session.scalars(select(InboundMessage)).one()
        task = session.scalars(select(Task)).one()
    assert (hold.kind, hold.debtor_id, hold.account_id) == ("dispute", debtor_id, account_id)
    assert hold.source == "debtor:sms" and hold.released_at is None
    assert (inbound.intent, inbound.account_id) == ("dispute", account_id)
    assert task.kind == "review" and task.inbound_id == inbound.id


async def test_promise_is_recorded_with_a_follow_up(
    client: httpx.AsyncClient, config: Config, runtime: Runtime, clock: SimulatedClock
) -> None:
    _, account_id = add_debtor(runtime.factory, clock.now())
    [reply] = replies(
        await post_signed(
            client, config, "/webhooks/twilio/sms", sms_form("I can pay $50 on Friday")
        )
    )
    assert "promise to pay $50.00 by December 4, 2026" in reply
    with runtime.factory() as session:
        promise = session.scalars(select(Promise)).one()
        followup = session.get(Message, promise.followup_message_id)
    assert (promise.account_id, promise.amount, promise.due_on) == (
        account_id,
        Decimal("50.00"),
        date(2026, 12, 4),
    )
    assert promise.source == "debtor:sms" and promise.inbound_id is not None
    assert followup is not None
    assert (followup.template, followup.kind, followup.state) == (
        "sms/promise_followup",
        "promise_followup",
        "planned",
    )
    assert followup.due_at.date() == date(2026, 12, 5)


async def test_an_unclear_promise_asks_for_the_format_and_goes_to_the_inbox(
    client: httpx.AsyncClient, config: Config, runtime: Runtime, clock: SimulatedClock
) -> None:
    add_debtor(runtime.factory, clock.now())
    [reply] = replies(
        await post_signed(
            client, config, "/webhooks/twilio/sms", sms_form("I can pay $50 when I get paid")
        )
    )
    assert "PROMISE 50 12/15" in reply
    assert count(runtime, Promise) == 0
    assert count(runtime, InboundMessage, InboundMessage.needs_agent.is_(True)) == 1


async def test_spanish_replies_in_spanish(
    client: httpx.AsyncClient, config: Config, runtime: Runtime, clock: SimulatedClock
) -> None:
    add_debtor(runtime.factory, clock.now())
    [reply] = replies(
        await post_signed(
            client, config, "/webhooks/twilio/sms", sms_form("Puedo pagar 40 dólares el viernes")
        )
    )
    assert "Registramos su promesa de pagar $40.00 antes del 4 de diciembre de 2026" in reply


async def test_anything_else_goes_to_the_inbox_unanswered(
    client: httpx.AsyncClient, config: Config, runtime: Runtime, clock: SimulatedClock
) -> None:
    add_debtor(runtime.factory, clock.now())
    texts = ["hello 😀 who is this?", "Это не мой номер?", "x" * 5000]
    for text in texts:
        form = sms_form(text)
        assert replies(await post_signed(client, config, "/webhooks/twilio/sms", form)) == []
    with runtime.factory() as session:
        rows = session.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
    assert [r.body for r in rows] == texts  # stored whole, 5000 characters included
    assert all(r.needs_agent and r.intent == "other" for r in rows)
    assert count(runtime, Task, Task.kind == "reply") == len(texts)


async def test_an_unknown_number_gets_a_generic_answer(
    client: httpx.AsyncClient, config: Config, runtime: Runtime, clock: SimulatedClock
) -> None:
    add_debtor(runtime.factory, clock.now())
    [reply] = replies(
        await post_signed(client, config, "/webhooks/twilio/sms", sms_form("PAY", "+13125550100"))
    )
    assert "could not match this number" in reply
    assert "debt" not in reply and "$" not in reply and "/pay/" not in reply
    with runtime.factory() as session:
        inbound = session.scalars(select(InboundMessage)).one()
    assert inbound.debtor_id is None and inbound.raw and inbound.raw["replies"] == [reply]


# --- status callbacks -------------------------------------------------------------------------


async def test_status_callbacks_never_move_a_message_backwards(
    client: httpx.AsyncClient, config: Config, runtime: Runtime, clock: SimulatedClock
) -> None:
    sid = new_sid()
    message_id = add_sent_sms(runtime.factory, clock.now(), sid)
    for status in ("queued", "delivered", "sent", "undelivered"):
        form = status_form(sid, status)
        response = await post_signed(client, config, "/webhooks/twilio/status", form)
        assert response.status_code == 200
    with runtime.factory() as session:
        message = session.get(Message, message_id)
        events = session.execute(
            select(MessageEvent.from_state, MessageEvent.to_state, MessageEvent.detail)
            .where(MessageEvent.message_id == message_id)
            .order_by(MessageEvent.id)
        ).all()
    assert message is not None and message.state == "delivered"
    assert [(e.from_state, e.to_state) for e in events] == [
        ("sent", "sent"),
        ("sent", "delivered"),
        ("delivered", "delivered"),
        ("delivered", "delivered"),
    ]
    assert events[2].detail == {"provider_status": "sent", "ignored": "out of order"}
    assert events[3].detail == {"provider_status": "undelivered", "ignored": "out of order"}


async def test_an_opt_out_error_code_opts_the_number_out(
    client: httpx.AsyncClient, config: Config, runtime: Runtime, clock: SimulatedClock
) -> None:
    sid = new_sid()
    message_id = add_sent_sms(runtime.factory, clock.now(), sid)
    form = status_form(sid, "undelivered", ErrorCode="21610")
    assert (await post_signed(client, config, "/webhooks/twilio/status", form)).status_code == 200
    with runtime.factory() as session:
        message = session.get(Message, message_id)
        point = session.scalars(select(ContactPoint).where(ContactPoint.value == PHONE)).one()
        audit = session.scalars(select(AuditEvent.action)).all()
    assert message is not None
    assert (message.state, message.error_code) == ("undelivered", "21610")
    assert point.opted_out_at is not None and "contact.opt_out" in audit


async def test_unknown_sids_are_acknowledged_and_missing_status_is_a_400(
    client: httpx.AsyncClient, config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    form = status_form(new_sid(), "delivered")
    assert (await post_signed(client, config, "/webhooks/twilio/status", form)).status_code == 200
    assert "unknown MessageSid" in caplog.text
    del form["MessageStatus"]
    bad = await post_signed(client, config, "/webhooks/twilio/status", form)
    assert bad.status_code == 400 and "MessageStatus" in bad.json()["detail"]
