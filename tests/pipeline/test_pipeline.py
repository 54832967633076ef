"""The whole path, campaign file to logged message, through real SMTP, the real twilio client
and real PDFs, on a simulated clock."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine

from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from tests.factories import add_debtor
from tests.pipeline_harness import running_pipeline


async def test_campaign_runs_end_to_end_on_every_channel(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    async with running_pipeline(config, engine, clock) as p:
        add_debtor(
            p.runtime.factory,
            clock.now(),
            first="Maria",
            last="Lopez",
            phones=[("+12127363100", "mobile")],
            emails=[("maria@example.com", "personal")],
        )
        report = p.plan()
        assert report.enrolled == 1 and report.planned == 1  # day 0: the validation notice

        await p.run_days(11)

        by_step = {m.step_id: m for m in p.messages()}
        assert set(by_step) == {
            "validation-notice",
            "first-email",
            "first-sms",
            "second-email",
            "final-sms",
        }
        assert {m.state for m in by_step.values()} == {"sent"}

        # The letter: a real PDF with the validation notice content, listed in the manifest.
        letter = by_step["validation-notice"]
        assert letter.artifact and Path(letter.artifact).exists()
        text = " ".join(page.extract_text() for page in PdfReader(letter.artifact).pages)
        assert "Maria Lopez" in text
        assert "attempt to collect a debt" in text
        manifest = Path(letter.artifact).parent / "manifest.csv"
        rows = list(csv.DictReader(manifest.open()))
        assert [r["message_id"] for r in rows] == [str(letter.id)]
        assert rows[0]["zip"] == "10118"

        # Email: through aiosmtplib into the aiosmtpd catcher, multipart, RFC 8058 headers.
        mails = p.sandbox.smtp.messages()
        assert len(mails) == 2
        first = next(
            m for m in mails if m["X-Outreach-Message-Id"] == str(by_step["first-email"].id)
        )
        assert first["To"] == "maria@example.com"
        assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert first["List-Unsubscribe"].startswith(f"<{config.public_url}/u/")
        assert {part.get_content_type() for part in first.walk()} >= {"text/plain", "text/html"}
        assert by_step["first-email"].provider_id == first["Message-ID"]

        # SMS: the real twilio client against the Twilio-compatible sandbox endpoint.
        sms = [r for r in p.sandbox.twilio.requests]
        assert len(sms) == 2
        assert {r["form"]["To"] for r in sms} == {"+12127363100"}
        assert all("STOP" in r["form"]["Body"] for r in sms)
        assert all(r["form"]["StatusCallback"].endswith("/webhooks/twilio/status") for r in sms)
        assert {r["sid"] for r in sms} == {
            by_step["first-sms"].provider_id,
            by_step["final-sms"].provider_id,
        }

        # The log keeps every transition with its cause.
        assert p.events(by_step["first-sms"].id) == [
            (None, "planned"),
            ("planned", "claimed"),
            ("claimed", "ready"),
            ("ready", "sending"),
            ("sending", "sent"),
        ]
        assert by_step["first-sms"].decision["verdict"] == "allow"


async def test_contact_window_defers_to_the_earliest_instant_in_every_zone(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    """Boise address (Mountain) and a north-Idaho 208-664 phone (Pacific): the SMS waits for
    08:00 Pacific even though it is already 08:00 in Boise."""
    async with running_pipeline(config, engine, clock) as p:
        add_debtor(
            p.runtime.factory,
            clock.now(),
            first="Dale",
            last="Hart",
            phones=[("+12086641234", "mobile")],
            emails=[],
            address={
                "line1": "150 N Capitol Blvd",
                "line2": "",
                "city": "Boise",
                "state": "ID",
                "zip": "83702",
            },
        )
        p.plan()
        await p.dispatcher().run_until_idle()  # day-0 letter
        # Day 3 at 15:00 UTC = 08:00 MST in Boise, 07:00 PST on the 664 exchange.
        clock.set(datetime(2026, 12, 4, 15, 0, tzinfo=UTC))
        p.plan()
        await p.dispatcher().run_until_idle()
        sms = next(m for m in p.messages() if m.channel == "sms")
        assert sms.state == "deferred"
        assert sms.due_at == datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
        assert "F1" in sms.decision["rules"] and "F2" in sms.decision["rules"]
        assert "America/Los_Angeles" in sms.decision["zones"]

        clock.set(datetime(2026, 12, 4, 16, 0, tzinfo=UTC))
        await p.dispatcher().run_until_idle()
        sms = next(m for m in p.messages() if m.channel == "sms")
        assert sms.state == "sent"
        assert p.events(sms.id)[1:] == [
            ("planned", "claimed"),
            ("claimed", "deferred"),
            ("deferred", "claimed"),
            ("claimed", "ready"),
            ("ready", "sending"),
            ("sending", "sent"),
        ]


@pytest.mark.parametrize(
    ("enrolled", "expected_state", "expected_due"),
    [
        # Day 3 falls on 31 October 2026: 12:30 UTC is 08:30 EDT, inside the window.
        (
            datetime(2026, 10, 28, 12, 30, tzinfo=UTC),
            "sent",
            datetime(2026, 10, 31, 12, 30, tzinfo=UTC),
        ),
        # Day 3 falls on 1 November, after the change: 12:30 UTC is 07:30 EST; 08:00 is 13:00 UTC.
        (
            datetime(2026, 10, 29, 12, 30, tzinfo=UTC),
            "deferred",
            datetime(2026, 11, 1, 13, 0, tzinfo=UTC),
        ),
    ],
)
async def test_deferral_follows_the_dst_change(
    config: Config, engine: Engine, enrolled: datetime, expected_state: str, expected_due: datetime
) -> None:
    clock = SimulatedClock(enrolled)
    async with running_pipeline(config, engine, clock) as p:
        add_debtor(p.runtime.factory, clock.now(), phones=[("+12127363100", "mobile")], emails=[])
        p.plan()
        await p.dispatcher().run_until_idle()  # day-0 letter
        clock.advance(timedelta(days=3))
        p.plan()
        await p.dispatcher().run_until_idle()
        sms = next(m for m in p.messages() if m.step_id == "first-sms")
        assert (sms.state, sms.due_at) == (expected_state, expected_due)


async def test_letters_are_not_held_by_the_time_of_day(config: Config, engine: Engine) -> None:
    clock = SimulatedClock(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))  # 02:00 in New York
    async with running_pipeline(config, engine, clock) as p:
        add_debtor(p.runtime.factory, clock.now())
        p.plan()
        await p.dispatcher().run_until_idle()
        (letter,) = p.messages()
        assert letter.channel == "letter" and letter.state == "sent"


async def test_holds_block_and_stop_the_enrollment(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    async with running_pipeline(config, engine, clock) as p:
        add_debtor(p.runtime.factory, clock.now(), holds=[("attorney", "debtor")])
        p.plan()
        await p.run_days(4)
        messages = p.messages()
        assert [(m.step_id, m.state) for m in messages] == [("validation-notice", "blocked")]
        assert messages[0].decision["rules"] == ["F5"]
        assert p.sandbox.smtp.messages() == [] and p.sandbox.twilio.requests == []


async def test_frequency_cap_defers_and_names_the_cap(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    """electronic-daily allows one sms-or-email a day: a second due the same day waits a day."""
    async with running_pipeline(config, engine, clock) as p:
        add_debtor(p.runtime.factory, clock.now())
        p.plan()
        await p.dispatcher().run_until_idle()
        clock.advance(timedelta(days=3))  # first-email (day 1) and first-sms (day 3) both due
        p.plan()
        await p.dispatcher().run_until_idle()
        by_step = {m.step_id: m for m in p.messages()}
        assert by_step["first-email"].state == "sent"
        assert by_step["first-sms"].state == "deferred"
        assert by_step["first-sms"].decision["rules"] == ["F10"]
        assert by_step["first-sms"].due_at == clock.now() + timedelta(days=1)
