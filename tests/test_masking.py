"""Masking keeps the last 4 characters of contact values, in logs and in what agents read;
it is linear in the text and bounded per logged line, leaves dates and times readable and
masks credentials in URLs; the logging set-up (text or JSON lines, masked, tracebacks too;
the twilio client and APScheduler's overlap warning quieted)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from outreach.config.settings import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN
from outreach.db.engine import session_factory
from outreach.db.models import ContactPoint, InboundMessage
from outreach.masking import (
    LOG_LINE_LIMIT,
    MaskingFilter,
    configure_logging,
    mask,
    mask_addresses,
    mask_log_text,
    mask_text,
)
from outreach.sandbox.server import running_server
from outreach.sandbox.twilio_api import TwilioSandboxStore, twilio_sandbox_router
from tests.factories import add_debtor


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


@pytest.mark.parametrize(
    "text",
    [
        "/" + "a" * 14_000,  # the path that held /healthz for 5.6 s
        "1" * 14_000,
        "a." * 7_000,
        "-" * 14_000,
        "a@" * 7_000,
        "a=b&" * 3_500,
        "1 " * 7_000,
        "(1" * 7_000,
        "//a:" * 3_500,
    ],
    ids=lambda text: repr(text[:4]),
)
def test_masking_a_long_line_takes_milliseconds(text: str) -> None:
    """Every pattern starts only where its run starts and never backtracks: one pass over
    14,000 characters of any shape (the old, quadratic patterns took up to 1.3 s on some)."""
    started = time.perf_counter()
    mask_text(text)
    assert time.perf_counter() - started < 0.1


def test_a_logged_line_is_cut_with_a_marker_and_no_number_is_cut_in_two() -> None:
    line = "x" * (LOG_LINE_LIMIT - 50) + " +1 212 555 0143 " + "y" * 60_000
    out = mask_log_text(f"first\n{line}\nlast")
    first, cut, last = out.split("\n")
    assert (first, last) == ("first", "last")
    assert len(cut) <= LOG_LINE_LIMIT
    dropped = int(cut.rsplit("[", 1)[1].split()[0])
    assert cut.endswith(f"…[{dropped} characters dropped]")
    assert len(cut) - len(f"…[{dropped} characters dropped]") + dropped == len(line)
    assert "212" not in cut and "555" not in cut
    assert mask_log_text(out) == out  # masking a masked line again changes nothing


@pytest.mark.parametrize(
    "line",
    [
        "2026-12-01 08:13:39 INFO started",
        "Next wakeup is due at 2026-12-01 08:13:39.123456-05:00 (in 59.998765 seconds)",
        "at 2026-12-01T08:13:39Z, 2026-12-01T08:13:39.123+00:00 and 2026-12-01T08:13:39+0530",
        "2026-12-01 08:13:39,123 and 20261201T081339Z",
        "window 08:00-21:00; next allowed 2026-12-01 13:00",
        "took 1234.5678 ms from 192.168.100.200:54321",
    ],
)
def test_dates_and_times_stay_readable(line: str) -> None:
    assert mask_text(line) == line


def test_phones_next_to_dates_are_masked_and_the_dates_kept() -> None:
    text = "2026-12-01 08:13:39 sms to +1 212 555 0143 08:14:02, call 212.555.0144 2026-12-02"
    assert mask_text(text) == (
        "2026-12-01 08:13:39 sms to ***********0143 08:14:02, call ********0144 2026-12-02"
    )


@pytest.mark.parametrize(
    ("text", "secrets"),
    [
        ("GET /x?token=eyJhIjoxfQ.aZ3x9w.Qk2jd8sL3kdmf&page=2", ["eyJhIjoxfQ", "Qk2jd8"]),
        ("https://h/x?api_key=abcdef&key=ghijkl&sig=mnopqr", ["abcdef", "ghijkl", "mnopqr"]),
        ("login password=hunter2 then Password=hunter3", ["hunter2", "hunter3"]),
        (
            "https://AC0123456789abcdef0123456789abcdef:f00dfacef00dface@api.twilio.com/2010",
            ["0123456789abcdef0123456789ab", "f00dfacef00dface"],
        ),
        ("postgresql+psycopg://outreach:s3cret-pw@db:5432/outreach", ["s3cret-pw"]),
        ("AccountSid=AC0123456789abcdef0123456789abcdef&Body=hi", ["0123456789abcdef0123"]),
        ("Authorization: Bearer abc.def.ghi123456", ["abc.def", "ghi12"]),
        ("to=%2B12125550143&email=ann%40example.com", ["212555", "ann"]),
        # a signed link (outreach.links) in a message, and a JWT
        ("sent https://pay.example/pay/eyJhIjoxfQ.aw8siA.MivQpOH6dmGrFwbS0UjjYO6iFbM", ["eyJh"]),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2ln", ["eyJ", "c2lnbm"]),
    ],
)
def test_credentials_in_urls_and_parameters_are_masked(text: str, secrets: list[str]) -> None:
    masked = mask_text(text)
    for secret in secrets:
        assert secret not in masked


def test_twilio_message_sids_stay_readable() -> None:
    text = "inbound sms SM0123456789abcdef0123456789abcdef: replay, nothing changed"
    assert mask_text(text) == text


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


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_traceback_another_handler_formatted_first_is_masked(
    stderr_log: Callable[[], str], log_format: str
) -> None:
    """A library's own handler runs before the root's and caches the traceback on the
    record (exc_text), which the text formatter then prints as it is."""
    configure_logging(logging.INFO, log_format)
    library = logging.getLogger("outreach.test.library")
    library.addHandler(own := logging.StreamHandler(io.StringIO()))
    try:
        try:
            raise ValueError("no such number +12125550143")
        except ValueError:
            library.exception("send failed", stack_info=True)
    finally:
        library.removeHandler(own)
    out = stderr_log()
    assert "ValueError: no such number ********0143" in out and "Stack (most" in out
    assert "2125550143" not in out


SMS_BODY = "I lost my job, please call me after six"


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_database_error_logged_shows_no_phone_and_no_message_body(
    engine: Engine, stderr_log: Callable[[], str], log_format: str
) -> None:
    """Real IntegrityErrors (a duplicate phone; an SMS stored without its channel) logged with
    log.exception and a stack: SQLAlchemy's `[parameters: ...]` and PostgreSQL's DETAIL
    ("Failing row contains (...)", "Key (...)=(...)") quote the values. A library's own
    handler formats the record first, caching the traceback on it unmasked (exc_text)."""
    configure_logging(logging.INFO, log_format)
    factory = session_factory(engine)
    now = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    debtor_id, _ = add_debtor(factory, now, phones=[("+12125550143", "mobile")])
    rows = [
        ContactPoint(
            debtor_id=debtor_id, kind="phone", value="+12125550143", source="t", created_at=now
        ),
        InboundMessage(channel=None, from_address="+12125550143", body=SMS_BODY, received_at=now),
    ]
    library = logging.getLogger("outreach.test.library")
    library.addHandler(own := logging.StreamHandler(io.StringIO()))
    try:
        for row in rows:
            try:
                with factory.begin() as session:
                    session.add(row)
            except IntegrityError:
                library.exception("storing from %s failed", "+12125550143", stack_info=True)
            else:
                pytest.fail("the database took the row")
    finally:
        library.removeHandler(own)
    out = stderr_log()
    assert out.count("IntegrityError") >= 2 and "Stack (most recent call last)" in out
    assert "storing from ********0143 failed" in out
    assert "2125550143" not in out and "lost my job" not in out


async def test_a_served_apps_traceback_is_masked(stderr_log: Callable[[], str]) -> None:
    """uvicorn logs an unhandled exception to "uvicorn.error"; the embedded server sends it
    through our handler like `outreach serve` does, not through uvicorn's own."""
    configure_logging(logging.INFO)
    app = FastAPI()

    @app.get("/boom")
    def boom() -> None:
        raise ValueError(f"no such number +12125550143: {SMS_BODY}")

    async with running_server(app) as base_url, httpx.AsyncClient() as client:
        assert (await client.get(f"{base_url}/boom")).status_code == 500
    out = stderr_log()
    assert "ERROR uvicorn.error: Exception in ASGI application" in out
    assert "ValueError: no such number ********0143" in out
    assert "2125550143" not in out


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
