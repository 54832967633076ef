"""Masking keeps the last 4 characters of contact values, in logs and in what agents read;
the logging set-up (text or JSON lines, masked; the twilio client and APScheduler's overlap
warning quieted)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from fastapi import FastAPI
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from outreach.config.settings import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN
from outreach.masking import MaskingFilter, configure_logging, mask, mask_addresses, mask_text
from outreach.sandbox.server import running_server
from outreach.sandbox.twilio_api import TwilioSandboxStore, twilio_sandbox_router


@pytest.mark.parametrize(
    ("value", "expected"),
    [("+15551234567", "********4567"), ("ann@example.com", "***********.com"), ("123", "***")],
)
def test_mask_keeps_the_last_four(value: str, expected: str) -> None:
    assert mask(value) == expected


def test_mask_text_masks_phones_emails_and_account_numbers() -> None:
    text = "to +1 (212) 555-0143 and ann@example.com about account 4000123412340001"
    masked = mask_text(text)
    for secret in ("555-0143", "ann@example.com", "4000123412340001"):
        assert secret not in masked
    assert "0143" in masked and "0001" in masked


def test_mask_addresses_leaves_dates_and_times_readable() -> None:
    reason = "The consumer opted out of messages to +12125550143 and ann@example.com."
    deferral = "It is 07:00 in America/New_York (window 08:00-21:00); next allowed 2026-12-01 13:00"
    assert mask_addresses(reason) == (
        "The consumer opted out of messages to ********0143 and ***********.com."
    )
    assert mask_addresses(deferral) == deferral


def test_the_log_filter_masks_formatted_records(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.masking")
    logger.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="test.masking"):
        logger.info("sent to %s", "+12125550143")
    assert caplog.messages == ["sent to ********0143"]


@pytest.fixture
def stderr_log(restore_logging: None, capsys: pytest.CaptureFixture[str]) -> Callable[[], str]:
    """What configure_logging's handler wrote to stderr so far (it binds sys.stderr when it
    is created, which capsys has replaced)."""
    capsys.readouterr()
    return lambda: capsys.readouterr().err


def test_json_logs_are_one_masked_object_per_line(stderr_log: Callable[[], str]) -> None:
    configure_logging(logging.INFO, "json")
    log = logging.getLogger("outreach.test")
    log.info("sms to %s, copy to %s", "+12125550143", "ann@example.com")
    log.warning("account", extra={"account_number": "4000123412340001"})
    try:
        raise ValueError("no such number +12125550143")
    except ValueError:
        log.exception("send failed")
    lines = stderr_log().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 3
    first = records[0]
    assert first["message"] == "sms to ********0143, copy to ***********.com"
    assert (first["level"], first["logger"]) == ("INFO", "outreach.test")
    assert first["timestamp"].startswith("20") and "T" in first["timestamp"]
    assert records[1]["account_number"] == "************0001"
    assert "ValueError" in records[2]["exc_info"]
    for secret in ("2125550143", "ann@example.com", "4000123412340001"):
        assert all(secret not in line for line in lines)


def test_text_logs_mask_the_message_and_the_traceback(stderr_log: Callable[[], str]) -> None:
    configure_logging(logging.INFO, "text")
    try:
        raise ValueError("no such address ann@example.com")
    except ValueError:
        logging.getLogger("outreach.test").exception("sent to %s", "+12125550143")
    out = stderr_log()
    assert "ERROR outreach.test: sent to ********0143" in out
    assert "ValueError: no such address ***********.com" in out
    assert "2125550143" not in out and "ann@example.com" not in out


def test_a_later_call_without_a_format_keeps_the_chosen_one(
    stderr_log: Callable[[], str],
) -> None:
    """`outreach serve` sets the level again after the root command chose the format."""
    configure_logging(logging.WARNING, "json")
    configure_logging(logging.INFO)
    logging.getLogger("outreach.test").info("serving")
    assert json.loads(stderr_log())["message"] == "serving"


def test_an_unknown_format_is_refused(restore_logging: None) -> None:
    with pytest.raises(ValueError, match="text, json"):
        configure_logging(logging.INFO, "xml")


# twilio 9.13 passes `auth=` to aiohttp 3.14, which deprecates it (see tests/channels).
@pytest.mark.filterwarnings("ignore:.*encode_basic_auth:DeprecationWarning")
async def test_the_twilio_client_logs_nothing_at_info(
    stderr_log: Callable[[], str], tmp_path: Path
) -> None:
    """The real twilio client, one SMS to the sandbox stand-in: without the quieted logger it
    writes ~8 INFO lines (request, headers, response) per message."""
    configure_logging(logging.INFO)
    app = FastAPI()
    app.include_router(twilio_sandbox_router(TwilioSandboxStore(tmp_path)))
    http = AsyncTwilioHttpClient()
    async with running_server(app) as base_url:
        client = Client(SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, http_client=http)
        client.api.base_url = base_url
        sent = await client.messages.create_async(
            to="+14155550123", from_="+15005550006", body="Hello"
        )
        await http.close()
    assert sent.sid
    logging.getLogger("twilio.http_client").warning("still shown")
    out = stderr_log()
    assert "twilio" not in out.replace("WARNING twilio.http_client: still shown", "")
    assert "still shown" in out


async def test_overlapping_apscheduler_runs_are_not_warned_about(
    stderr_log: Callable[[], str],
) -> None:
    """A job still running when it is due again is skipped (max_instances=1) by design; the
    warning APScheduler logs for it each time is dropped, its other warnings are not."""
    configure_logging(logging.INFO)
    skipped: list[JobSubmissionEvent] = []

    async def slow() -> None:
        await asyncio.sleep(0.5)

    scheduler = AsyncIOScheduler(job_defaults={"max_instances": 1, "coalesce": True})
    scheduler.add_listener(skipped.append, EVENT_JOB_MAX_INSTANCES)
    scheduler.add_job(slow, "interval", seconds=0.1, next_run_time=datetime.now(UTC))
    scheduler.start()
    for _ in range(50):
        if skipped:
            break
        await asyncio.sleep(0.05)
    scheduler.shutdown(wait=False)
    assert skipped, "the job never overlapped itself"
    logging.getLogger("apscheduler.scheduler").warning("a different warning")
    out = stderr_log()
    assert "maximum number of running instances" not in out
    assert "WARNING apscheduler.scheduler: a different warning" in out
