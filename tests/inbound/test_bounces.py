"""Bounces: RFC 3464 reports delivered over real SMTP (aiosmtplib -> the aiosmtpd catcher) to
the bounce address, read from the Maildir and applied once."""

from __future__ import annotations

import json
from email.message import EmailMessage

import aiosmtplib
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select

from outreach.cli.main import main
from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.models import ContactPoint, InboundMessage, Message, MessageEvent
from outreach.inbound.bounces import MaildirBounces, NotADsn, bounce_source, parse_dsn
from outreach.sandbox.smtp_catcher import build_dsn
from tests.factories import add_debtor
from tests.pipeline_harness import Pipeline, running_pipeline

BOUNCES = "bounces@example-recovery.test"


async def first_email(p: Pipeline) -> tuple[Message, EmailMessage]:
    await p.run_days(2)  # day 1: the first email
    [sent] = [m for m in p.messages() if m.channel == "email"]
    [mail] = p.sandbox.smtp.messages()
    return sent, mail


async def deliver(p: Pipeline, dsn: EmailMessage) -> None:
    await aiosmtplib.send(
        dsn, hostname="127.0.0.1", port=p.sandbox.smtp_port, sender="", recipients=[BOUNCES]
    )


def bounces_for(p: Pipeline) -> MaildirBounces:
    source = bounce_source(p.runtime.config)
    assert source is not None
    return source


async def test_outgoing_mail_returns_to_the_bounce_address(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    async with running_pipeline(config, engine, clock) as p:
        add_debtor(p.runtime.factory, clock.now())
        _, mail = await first_email(p)
    assert mail["X-MailFrom"] == BOUNCES  # the envelope sender (Return-Path)
    assert mail["From"] == config.file.email.from_address


async def test_a_hard_bounce_marks_the_address_undeliverable(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    async with running_pipeline(config, engine, clock) as p:
        add_debtor(p.runtime.factory, clock.now())
        sent, mail = await first_email(p)
        await deliver(p, build_dsn(mail, to=BOUNCES, recipient="maria@example.com"))
        source = bounces_for(p)
        report = source.process(p.runtime.factory, clock.now())
        assert (report.read, report.hard, report.soft) == (1, 1, 0)
        # Processed once: the same process remembers it, a new one finds the inbound row.
        assert source.process(p.runtime.factory, clock.now()).read == 0
        assert bounces_for(p).process(p.runtime.factory, clock.now()).duplicates == 1

        await p.run_days(9)
        with p.runtime.factory() as session:
            message = session.get(Message, sent.id)
            email = session.scalars(select(ContactPoint).where(ContactPoint.kind == "email")).one()
            inbound = session.scalars(select(InboundMessage)).one()
            events = session.scalars(
                select(MessageEvent.to_state).where(MessageEvent.message_id == sent.id)
            ).all()
        assert message is not None
        assert (message.state, message.error_code) == ("bounced", "5.1.1")
        assert events[-1] == "bounced"
        assert email.undeliverable_at is not None
        assert (inbound.channel, inbound.intent, inbound.debtor_id) == (
            "email",
            "bounce_hard",
            sent.debtor_id,
        )
        second = next(m for m in p.messages() if m.step_id == "second-email")
        assert second.state == "skipped"  # no usable email left
        assert len(p.sandbox.smtp.messages_to("maria@example.com")) == 1


async def test_a_soft_bounce_is_recorded_and_the_address_stays(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    async with running_pipeline(config, engine, clock) as p:
        add_debtor(p.runtime.factory, clock.now())
        sent, mail = await first_email(p)
        dsn = build_dsn(
            mail.as_bytes(),
            to=BOUNCES,
            recipient="maria@example.com",
            action="delayed",
            status="4.2.2",
            diagnostic="smtp; 452 4.2.2 Mailbox full",
        )
        await deliver(p, dsn)
        report = bounces_for(p).process(p.runtime.factory, clock.now())
        assert (report.hard, report.soft) == (0, 1)
        await p.run_days(9)
        with p.runtime.factory() as session:
            message = session.get(Message, sent.id)
            email = session.scalars(select(ContactPoint).where(ContactPoint.kind == "email")).one()
            last = session.scalars(
                select(MessageEvent)
                .where(MessageEvent.message_id == sent.id)
                .order_by(MessageEvent.id.desc())
            ).first()
        assert message is not None and message.state == "sent"
        assert email.undeliverable_at is None
        assert last is not None and last.detail and last.detail["failures"] == ["delayed 4.2.2"]
        second = next(m for m in p.messages() if m.step_id == "second-email")
        assert second.state == "sent"


async def test_the_sandbox_bounces_mail_to_magic_addresses(
    config: Config, engine: Engine, clock: SimulatedClock, tmp_path: object
) -> None:
    async with running_pipeline(config, engine, clock) as p:
        add_debtor(p.runtime.factory, clock.now(), emails=[("bounce-hard@example.com", "personal")])
        await p.run_days(2)
        assert len(p.sandbox.smtp.messages_to(BOUNCES)) == 1
        env = {"OUTREACH_DATABASE_URL": config.database_url}
        maildir = str(p.sandbox.dir / "mail")
        # `outreach bounces process` on the sandbox Maildir (everything in it is read).
        result = CliRunner().invoke(
            main,
            ["--config-dir", str(config.dir), "bounces", "process", "--maildir", maildir, "--json"],
            env=env,
        )
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert report["hard"] == 1 and report["not_dsn"] == 1  # the original mail itself
        with p.runtime.factory() as session:
            email = session.scalars(select(ContactPoint).where(ContactPoint.kind == "email")).one()
        assert email.undeliverable_at is not None


def test_mail_that_is_not_a_report_is_refused() -> None:
    plain = EmailMessage()
    plain["Subject"] = "Out of office"
    plain.set_content("I am away.")
    with pytest.raises(NotADsn):
        parse_dsn(plain.as_bytes())
