"""settle_unknowns against the sandbox with the real twilio client: each unknown SMS with a
SID ends in the state Twilio reports (error codes, opt-outs included, no stale text); a SID
Twilio does not know, a failed lookup and a message settled meanwhile stay as they are."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from outreach.channels.base import OutboundMessage
from outreach.channels.sms import TwilioSmsChannel
from outreach.channels.twilio_lookup import ProviderStatus, TwilioLookup
from outreach.clock import SimulatedClock
from outreach.config.settings import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN
from outreach.db.engine import session_factory
from outreach.db.models import ContactPoint, Message, MessageEvent
from outreach.inbound.settle import SettleReport, settle_unknowns
from outreach.sandbox.twilio_api import TwilioSandboxStore
from outreach.vocabulary import MessageState
from tests.conftest import free_port
from tests.factories import add_debtor
from tests.unknowns_helpers import add_unknown

pytestmark = pytest.mark.filterwarnings("ignore:.*encode_basic_auth:DeprecationWarning")


@pytest.fixture
async def lookup(twilio_url: str) -> AsyncIterator[TwilioLookup]:
    made = TwilioLookup(SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, base_url=twilio_url, timeout=5)
    yield made
    await made.aclose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


async def _accepted(twilio_url: str, n: int) -> list[str]:
    """SIDs of messages the sandbox accepted through the real Messages API."""
    channel = TwilioSmsChannel(
        SANDBOX_ACCOUNT_SID,
        SANDBOX_AUTH_TOKEN,
        from_number="+15005550006",
        base_url=twilio_url,
    )
    try:
        results = [
            await channel.send(
                OutboundMessage(message_id=i, channel="sms", to="+14155550123", text="Hi")
            )
            for i in range(n)
        ]
    finally:
        await channel.aclose()
    return [r.provider_id for r in results if r.provider_id]


def _row(factory: sessionmaker[Session], message_id: int) -> tuple[object, ...]:
    with factory() as session:
        m = session.get_one(Message, message_id)
        return (m.state, m.error_code, m.error_message)


async def test_unknown_sends_settle_to_what_twilio_reports(
    factory: sessionmaker[Session],
    clock: SimulatedClock,
    lookup: TwilioLookup,
    twilio_url: str,
    twilio_store: TwilioSandboxStore,
) -> None:
    now = clock.now()
    queued, delivered, undelivered, refused = await _accepted(twilio_url, 4)
    twilio_store.messages[delivered]["status"] = "delivered"
    twilio_store.messages[undelivered].update(status="undelivered", error_code=30003)
    twilio_store.messages[refused].update(status="failed", error_code=21610)
    debtor, account = add_debtor(factory, now)
    ids = {
        sid: add_unknown(factory, now, debtor, account, provider_id=sid, step=name)
        for name, sid in (
            ("q", queued),
            ("d", delivered),
            ("u", undelivered),
            ("r", refused),
            ("gone", "SM" + "9" * 32),  # Twilio does not know it
        )
    }
    email = add_unknown(factory, now, debtor, account, channel="email", to="m@example.com")

    report = await settle_unknowns(factory, lookup, now)

    assert report == SettleReport(
        looked_up=5,
        settled=4,
        not_found=1,
        by_state={"sent": 1, "delivered": 1, "undelivered": 1, "failed": 1},
    )
    assert _row(factory, ids[queued]) == ("sent", None, None)
    assert _row(factory, ids[delivered]) == ("delivered", None, None)
    assert _row(factory, ids[undelivered]) == (
        "undelivered",
        "30003",
        "Unreachable destination handset",
    )
    assert _row(factory, ids[refused])[:2] == ("failed", "21610")
    assert _row(factory, ids["SM" + "9" * 32])[0] == "unknown"
    assert _row(factory, email)[0] == "unknown"  # only SMS with a SID are asked about
    with factory() as session:
        phone = session.scalars(select(ContactPoint).where(ContactPoint.kind == "phone")).one()
        event = session.execute(
            select(MessageEvent.from_state, MessageEvent.to_state, MessageEvent.detail)
            .where(MessageEvent.message_id == ids[delivered])
            .order_by(MessageEvent.id.desc())
        ).first()
    assert phone.opted_out_at is not None  # 21610: the number refuses our messages
    assert event is not None and tuple(event) == (
        "unknown",
        "delivered",
        {"provider_status": "delivered", "via": "lookup"},
    )
    assert await settle_unknowns(factory, lookup, now) == SettleReport(looked_up=1, not_found=1)


async def test_a_failed_lookup_leaves_the_message_unknown(
    factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    debtor, account = add_debtor(factory, clock.now())
    message_id = add_unknown(factory, clock.now(), debtor, account, provider_id="SM" + "1" * 32)
    dead = TwilioLookup(
        SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, base_url=f"http://127.0.0.1:{free_port()}"
    )
    try:
        report = await settle_unknowns(factory, dead, clock.now())
    finally:
        await dead.aclose()
    assert report == SettleReport(looked_up=1, failed=1)
    assert _row(factory, message_id) == ("unknown", None, "outcome unknown (worker lost)")


async def test_a_message_settled_during_the_lookup_is_left_alone(
    factory: sessionmaker[Session],
    clock: SimulatedClock,
    lookup: TwilioLookup,
    twilio_url: str,
) -> None:
    (sid,) = await _accepted(twilio_url, 1)
    debtor, account = add_debtor(factory, clock.now())
    message_id = add_unknown(factory, clock.now(), debtor, account, provider_id=sid)

    class PersonMeanwhile:
        """The real lookup; while it waits for Twilio, a person resolves the message."""

        async def fetch(self, sid: str) -> ProviderStatus | None:
            with factory.begin() as session:
                session.get_one(Message, message_id).state = MessageState.FAILED
            return await lookup.fetch(sid)

    report = await settle_unknowns(factory, PersonMeanwhile(), clock.now())
    assert report == SettleReport(looked_up=1, skipped=1)
    assert _row(factory, message_id)[0] == "failed"


async def test_the_limit_bounds_one_pass(
    factory: sessionmaker[Session], clock: SimulatedClock, lookup: TwilioLookup, twilio_url: str
) -> None:
    sids = await _accepted(twilio_url, 3)
    debtor, account = add_debtor(factory, clock.now())
    for n, sid in enumerate(sids):
        add_unknown(factory, clock.now(), debtor, account, provider_id=sid, step=str(n))
    first = await settle_unknowns(factory, lookup, clock.now(), limit=2)
    assert (first.looked_up, first.settled) == (2, 2)
    second = await settle_unknowns(factory, lookup, clock.now(), limit=2)
    assert (second.looked_up, second.settled) == (1, 1)
