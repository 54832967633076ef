"""LetterChannel: a real WeasyPrint PDF, read back with pypdf; the manifest; idempotency."""

from __future__ import annotations

import csv
import logging
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pypdf import PdfReader

from outreach.channels.base import OutboundMessage, PostalAddress, SendStatus
from outreach.channels.letter import MANIFEST_HEADER, LetterChannel
from outreach.clock import SimulatedClock
from outreach.render.context import sample_context
from outreach.render.environment import MINI_MIRANDA, MINI_MIRANDA_FIRST, Renderer

# 18:30 on December 15 in New York is 23:30 UTC... and 00:30 UTC on the 16th an hour later.
EASTERN = timezone(timedelta(hours=-5))
START = datetime(2026, 12, 15, 19, 30, tzinfo=EASTERN)
ADDRESS = PostalAddress(
    name="Jordan A. Rivera",
    line1="1428 Elm Street",
    line2="Apt 3B",
    city="Fresno",
    state="CA",
    zip="93721",
)


def letter(
    message_id: int, html: str | None, postal: PostalAddress | None = ADDRESS
) -> OutboundMessage:
    return OutboundMessage(
        message_id=message_id,
        channel="letter",
        to=ADDRESS.name,
        text="",
        html=html,
        template="letter/validation_notice",
        account_ref="****4821",
        postal=postal,
    )


@pytest.fixture(scope="module")
def notice_html() -> str:
    html = Renderer().render("letter/validation_notice", sample_context("letter")).html
    assert html is not None
    return html


def read_manifest(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


async def test_validation_notice_pdf_and_manifest(tmp_path: Path, notice_html: str) -> None:
    clock = SimulatedClock(START)
    channel = LetterChannel(tmp_path, clock=clock)
    started = time.perf_counter()
    result = await channel.send(letter(42, notice_html))
    elapsed = time.perf_counter() - started

    assert result.status is SendStatus.SENT, result
    day = tmp_path / "2026-12-16"  # the UTC date, not the Eastern one
    pdf = day / "letter-42.pdf"
    assert result.provider_id == "letter-2026-12-16-42"
    assert result.detail == {"path": str(pdf), "pages": "2"}
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert not [p for p in day.iterdir() if p.name.endswith(".tmp")]

    reader = PdfReader(pdf)
    assert len(reader.pages) == 2
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    for needed in [
        "Jordan A. Rivera",
        "$1,184.20",  # itemization amount
        "$42.36",  # interest
        "$35.00",  # fees
        "$27.00",  # payments and credits
        "$1,234.56",  # total now
        "January 21, 2027",  # end of the validation period
        "How do you want to respond?",
        "www.cfpb.gov/debt-collection",
        MINI_MIRANDA,
        MINI_MIRANDA_FIRST,
    ]:
        assert needed in text, needed

    rows = read_manifest(day / "manifest.csv")
    assert list(rows[0]) == list(MANIFEST_HEADER)
    assert rows == [
        {
            "message_id": "42",
            "file": "letter-42.pdf",
            "recipient": "Jordan A. Rivera",
            "address_line1": "1428 Elm Street",
            "address_line2": "Apt 3B",
            "city": "Fresno",
            "state": "CA",
            "zip": "93721",
            "account": "****4821",
            "template": "letter/validation_notice",
            "pages": "2",
            "created_at": "2026-12-16T00:30:00+00:00",
        }
    ]

    # The same message again the same day: same answer, no second row, no second render.
    clock.advance(timedelta(hours=2))
    mtime = pdf.stat().st_mtime_ns
    again = await channel.send(letter(42, notice_html))
    assert again == result
    assert len(read_manifest(day / "manifest.csv")) == 1
    assert pdf.stat().st_mtime_ns == mtime
    await channel.aclose()
    print(f"\nvalidation notice PDF: {elapsed * 1000:.0f} ms (first letter in the process)")


async def test_manifest_rows_accumulate_and_stay_whole(tmp_path: Path) -> None:
    clock = SimulatedClock(START)
    channel = LetterChannel(tmp_path, clock=clock)
    html = "<html><body><p>Short letter {n}.</p></body></html>"
    results = [await channel.send(letter(n, html.format(n=n))) for n in (1, 2, 1)]
    assert [r.status for r in results] == [SendStatus.SENT] * 3
    manifest = tmp_path / "2026-12-16" / "manifest.csv"
    rows = read_manifest(manifest)
    assert [r["message_id"] for r in rows] == ["1", "2"]
    assert manifest.read_text().endswith("\n")
    assert manifest.read_text().count("message_id,file") == 1


async def test_pdf_replaced_if_missing_without_a_second_row(tmp_path: Path) -> None:
    channel = LetterChannel(tmp_path, clock=SimulatedClock(START))
    html = "<p>Hello</p>"
    first = await channel.send(letter(7, html))
    Path(first.detail["path"]).unlink()
    second = await channel.send(letter(7, html))
    assert second.status is SendStatus.SENT
    assert Path(second.detail["path"]).exists()
    assert len(read_manifest(tmp_path / "2026-12-16" / "manifest.csv")) == 1


async def test_no_network_fetches(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """An image on the network is refused, not fetched; the letter still renders."""
    channel = LetterChannel(tmp_path, clock=SimulatedClock(START))
    html = '<p>Logo:</p><img src="http://127.0.0.1:9/logo.png"><p>after</p>'
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        result = await channel.send(letter(8, html))
    assert result.status is SendStatus.SENT
    assert "disallowed protocol" in caplog.text


@pytest.mark.parametrize(
    ("html", "postal", "code"),
    [("<p>x</p>", None, "no_address"), (None, ADDRESS, "no_html"), ("", ADDRESS, "no_html")],
)
async def test_missing_parts_are_permanent(
    tmp_path: Path, html: str | None, postal: PostalAddress | None, code: str
) -> None:
    channel = LetterChannel(tmp_path, clock=SimulatedClock(START))
    result = await channel.send(letter(9, html, postal))
    assert result.status is SendStatus.PERMANENT
    assert result.error_code == code and result.error_message
    assert not list(tmp_path.iterdir())


async def test_unwritable_output_is_retryable(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the folder should be")
    channel = LetterChannel(blocker, clock=SimulatedClock(START))
    result = await channel.send(letter(10, "<p>x</p>"))
    assert result.status is SendStatus.RETRYABLE
    assert result.error_code == "io_error"
