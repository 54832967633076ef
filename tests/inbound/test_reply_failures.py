"""No reply can lose a debtor's message: the inbound SMS and its action commit before any reply
is rendered. A reply template an operator broke (config/templates/sms/replies/) answers with
the built-in text, logged and handed to an agent; a process that stops between the two
transactions keeps the message and its hold, and the retry answers once."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.casework import Task
from outreach.db.models import Hold, InboundMessage, Message
from outreach.inbound import apply
from outreach.runtime import Runtime
from outreach.web.app import create_app
from tests.conftest import CONFIG_DIR
from tests.factories import add_debtor
from tests.web.test_webhooks import count, post_signed, replies, sms_form

SMS = "/webhooks/twilio/sms"
FALLBACK_EN = (
    "Example Recovery Services LLC: We received your message and an agent will review it."
    " Reply STOP to opt out."
)
FALLBACK_ES = (
    "Example Recovery Services LLC: Recibimos su mensaje y un agente lo revisará."
    " Responda STOP para cancelar."
)


@pytest.fixture
def with_overrides(
    tmp_path: Path, db_url: str, engine: Engine, clock: SimulatedClock
) -> Callable[[dict[str, str]], Runtime]:
    """A runtime on a copy of the shipped config with these files in its templates/."""

    def make(files: dict[str, str]) -> Runtime:
        config_dir = tmp_path / "config"
        shutil.copytree(CONFIG_DIR, config_dir, dirs_exist_ok=True)
        for name, text in files.items():
            path = config_dir / "templates" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        config = Config(config_dir).relocate(tmp_path)
        config.secrets.database_url = db_url
        return Runtime(config, clock, engine=engine)

    return make


@asynccontextmanager
async def app_client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The app as Twilio meets it: an exception is a 500 response, not a test error."""
    app = create_app(runtime, self_url="http://127.0.0.1:1", run_worker=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.mark.parametrize(
    ("files", "text", "fallback", "broken"),
    [
        (
            {"sms/replies/dispute.txt": "{{ agency.name }}: {{ agency.nmae }} recorded."},
            "not my debt",
            FALLBACK_EN,
            "sms/replies/dispute.txt",
        ),
        (
            {"sms/replies/dispute.es.txt": "{{ agency.name }}: {% if %} registrada."},
            "no es mi deuda",
            FALLBACK_ES,
            "sms/replies/dispute.es.txt",
        ),
    ],
)
async def test_a_broken_reply_template_still_holds_and_answers_the_built_in_text(
    with_overrides: Callable[[dict[str, str]], Runtime],
    clock: SimulatedClock,
    caplog: pytest.LogCaptureFixture,
    files: dict[str, str],
    text: str,
    fallback: str,
    broken: str,
) -> None:
    runtime = with_overrides(files)
    debtor_id, account_id = add_debtor(runtime.factory, clock.now())
    form = sms_form(text)
    async with app_client(runtime) as client:
        answer = replies(await post_signed(client, runtime.config, SMS, form))
        again = replies(await post_signed(client, runtime.config, SMS, form))
    assert answer == again == [fallback]
    assert "failed to render" in caplog.text and broken in caplog.text
    with runtime.factory() as session:
        hold = session.scalars(select(Hold)).one()
        inbound = session.scalars(select(InboundMessage)).one()
        tasks = session.scalars(select(Task).order_by(Task.id)).all()
        [logged] = session.scalars(select(Message).where(Message.in_reply_to_id.is_not(None)))
    assert (hold.kind, hold.debtor_id, hold.account_id) == ("dispute", debtor_id, account_id)
    assert (inbound.intent, inbound.body) == ("dispute", text)
    assert [t.kind for t in tasks] == ["review", "review"]  # the dispute's (F17), the template's
    assert broken in tasks[1].summary and tasks[1].inbound_id == inbound.id
    assert logged.body == fallback and logged.template == "sms/replies/dispute"


async def test_a_stop_between_the_transactions_keeps_the_hold_and_the_retry_answers_once(
    runtime: Runtime, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_debtor(runtime.factory, clock.now())
    form = sms_form("not my debt")
    real = apply.log_replies

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the process stopped here")

    monkeypatch.setattr(apply, "log_replies", crash)
    async with app_client(runtime) as client:
        failed = await post_signed(client, runtime.config, SMS, form)
        assert failed.status_code == 500
        assert count(runtime, Hold) == 1 and count(runtime, InboundMessage) == 1
        assert count(runtime, Message) == 0  # nothing answered, nothing logged
        monkeypatch.setattr(apply, "log_replies", real)
        [answer] = replies(await post_signed(client, runtime.config, SMS, form))
        again = replies(await post_signed(client, runtime.config, SMS, form))
    assert "We recorded your dispute and paused collection" in answer and again == [answer]
    assert count(runtime, Hold) == 1 and count(runtime, InboundMessage) == 1
    assert count(runtime, Task) == 1  # the dispute's review, created once
    with runtime.factory() as session:
        [logged] = session.scalars(select(Message)).all()
    assert logged.body == answer
