"""Replies change what outreach does next: the real pipeline (sandbox SMTP, the twilio client,
the dispatcher) around a served app (uvicorn on loopback) that takes signed webhooks.

- a debtor texts STOP: the next planned SMS is blocked (F7) while email continues;
- one-click unsubscribe by a real HTTP POST: the next email is blocked, SMS continues;
- `outreach serve`'s app answers STOP, HELP, PAY, DISPUTE and PROMISE, and `outreach log`
  shows each with the action taken.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from click.testing import CliRunner
from sqlalchemy import Engine, select

from outreach.cli.main import main
from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.casework import Promise
from outreach.db.models import ContactPoint, Hold, Message
from outreach.runtime import Runtime
from outreach.sandbox.server import running_server
from outreach.web.app import create_app
from tests.factories import add_debtor
from tests.pipeline_harness import running_pipeline
from tests.web.test_webhooks import PHONE, replies, sign, sms_form


@asynccontextmanager
async def served(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The web app on a real loopback port, with a client pointed at it."""
    app = create_app(runtime, self_url="http://127.0.0.1:1", run_worker=False)
    async with running_server(app) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        yield client


async def text(client: httpx.AsyncClient, config: Config, body: str) -> list[str]:
    form = sms_form(body)
    path = "/webhooks/twilio/sms"
    response = await client.post(
        path, data=form, headers={"X-Twilio-Signature": sign(config, path, form)}
    )
    return replies(response)


def by_step(messages: list[Message]) -> dict[str, Message]:
    return {m.step_id: m for m in messages if m.step_id}


async def test_stop_blocks_the_next_sms_while_email_continues(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    async with running_pipeline(config, engine, clock) as p:
        add_debtor(p.runtime.factory, clock.now())
        await p.run_days(2)  # validation letter (day 0), first email (day 1)
        async with served(p.runtime) as client:
            assert len(await text(client, config, "please stop texting me")) == 1
        await p.run_days(9)
        steps = by_step(p.messages())
        assert steps["first-email"].state == "sent"
        assert steps["second-email"].state == "sent"  # email continues
        for sms in (steps["first-sms"], steps["final-sms"]):
            assert sms.state == "blocked"
            assert sms.decision is not None and "F7" in sms.decision["rules"]
        assert p.sandbox.twilio.requests == []  # nothing reached Twilio


async def test_one_click_unsubscribe_blocks_the_next_email(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    async with running_pipeline(config, engine, clock) as p:
        add_debtor(p.runtime.factory, clock.now())
        await p.run_days(2)
        [first_email] = p.sandbox.smtp.messages()
        header = str(first_email["List-Unsubscribe"]).strip("<>")
        assert first_email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        path = header.removeprefix(config.public_url)
        async with served(p.runtime) as client:
            page = await client.get(path)  # a link scanner or a person: nothing changes yet
            assert page.status_code == 200 and "Unsubscribe" in page.text
            with p.runtime.factory() as session:
                email = session.scalars(
                    select(ContactPoint).where(ContactPoint.kind == "email")
                ).one()
            assert email.opted_out_at is None
            response = await client.post(path, data={"List-Unsubscribe": "One-Click"})
            assert response.status_code == 200
            again = await client.post(path, data={"List-Unsubscribe": "One-Click"})
            assert again.status_code == 200
            bad = await client.post(path[:-3] + "xyz", data={"List-Unsubscribe": "One-Click"})
            assert bad.status_code == 400
        await p.run_days(9)
        steps = by_step(p.messages())
        assert steps["second-email"].state == "blocked"
        assert steps["second-email"].decision is not None
        assert "F7" in steps["second-email"].decision["rules"]
        assert steps["first-sms"].state == "sent"  # SMS continues
        assert len(p.sandbox.smtp.messages()) == 1


async def test_the_served_app_answers_keywords_and_the_log_shows_them(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    runtime = Runtime(config, clock, engine=engine)
    add_debtor(runtime.factory, clock.now())
    async with served(runtime) as client:
        [help_text] = await text(client, config, "HELP")
        [pay] = await text(client, config, "PAY")
        [promise] = await text(client, config, "PROMISE 50 12/15")
        [dispute] = await text(client, config, "DISPUTE")
        [stop] = await text(client, config, "STOP")
    assert "Msg & data rates may apply" in help_text
    assert f"{config.public_url}/pay/" in pay
    assert "$50.00 by December 15, 2026" in promise
    assert "recorded your dispute" in dispute
    assert "unsubscribed" in stop
    with runtime.factory() as session:
        assert session.scalars(select(Promise.amount)).one() == 50
        assert session.scalars(select(Hold.kind)).one() == "dispute"
        phone = session.scalars(select(ContactPoint).where(ContactPoint.value == PHONE)).one()
        assert phone.opted_out_at is not None

    cli = CliRunner()
    env = {"OUTREACH_DATABASE_URL": config.database_url}
    result = cli.invoke(
        main, ["--config-dir", str(config.dir), "log", "--inbound", "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["intent"] for r in rows] == ["opt_out", "dispute", "promise", "pay", "help"]
    assert rows[0]["from"] == "********0143"  # masked
    assert rows[0]["action"].startswith("opted out") and rows[0]["replies"]
    assert rows[1]["action"] == "dispute hold on 1 account(s)"
    assert rows[2]["action"].endswith("50 by 2026-12-15")
    outbound = cli.invoke(main, ["--config-dir", str(config.dir), "log", "--json"], env=env)
    kinds = [json.loads(line)["template"] for line in outbound.output.splitlines()]
    assert "sms/replies/opt_out" in kinds and "sms/promise_followup" in kinds
    table = cli.invoke(main, ["--config-dir", str(config.dir), "log", "--inbound"], env=env)
    assert table.exit_code == 0 and "dispute" in table.output


async def test_an_expired_pay_link_is_refused(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    runtime = Runtime(config, clock, engine=engine)
    _, account_id = add_debtor(runtime.factory, clock.now())
    url = runtime.links.pay(account_id)
    async with served(runtime) as client:
        fresh = await client.get(url.removeprefix(config.public_url))
        assert fresh.status_code == 200 and "****0" in fresh.text
    # itsdangerous reads its own wall clock: a token signed "8 days ago" is the same test.
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    class EightDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return super().get_timestamp() - int(timedelta(days=8).total_seconds())

    token = URLSafeTimedSerializer(
        config.secret_key, salt="outreach.pay", signer=EightDaysAgo
    ).dumps({"a": account_id})
    async with served(runtime) as client:
        expired = await client.get(f"/pay/{token}")
    assert expired.status_code == 410 and "expired" in expired.text
