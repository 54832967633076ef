"""Letters: render the message's HTML to a PDF and list it in the day's print manifest.

The output folder is what a print-and-mail vendor (or the office printer) picks up:
`YYYY-MM-DD/letter-<message_id>.pdf` plus `YYYY-MM-DD/manifest.csv`, one row per letter (its
cells quoted, and never a formula to a spreadsheet: `outreach.csv_export`).

A letter may be produced again for the same message (its worker died mid-send and the reaper
planned it again), so producing one is idempotent per message id and never leaves a half-done
letter where a vendor looks:
1. render to a hidden temporary name (`.letter-<id>.pdf.<token>.tmp`), fsynced;
2. under the manifest's flock: append the row (the commit point: flushed and fsynced), THEN
   rename the PDF to its final name. A final-named PDF therefore always has its row; a row
   whose PDF is missing (killed between the two) gets its PDF on the next run.
A run first looks the message up in the manifests of the last `lookback_days` days (and the
next one, for clocks a little ahead): a letter committed yesterday is completed or answered
from yesterday's folder, never produced a second time today. Temporary files a killed process
left behind are removed on the next run for that message, and by a sweep of the recent folders
once they are `stale_seconds` old.
"""

from __future__ import annotations

import asyncio
import csv
import fcntl
import io
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, timedelta
from pathlib import Path
from typing import IO

from weasyprint.urls import URLFetcher

from outreach.channels.base import OutboundMessage, PostalAddress, SendResult, SendStatus
from outreach.channels.pdf import write_pdf
from outreach.clock import Clock
from outreach.csv_export import SafeWriter

MANIFEST_HEADER = (
    "message_id",
    "file",
    "recipient",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "zip",
    "account",
    "template",
    "pages",
    "created_at",
)
PAGES = MANIFEST_HEADER.index("pages")
# How far back a re-run looks for the letter's row. A message is re-run minutes after its
# worker died (the lease), or after retries and deferrals: days, not weeks. Keep day folders
# (at least their manifest.csv) this long after the vendor collects them.
LOOKBACK_DAYS = 14
# A temporary PDF this old belongs to a dead process: rendering one takes seconds.
STALE_SECONDS = 600.0
_SWEEP_EVERY = 60.0

_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


class RenderFailed(Exception):
    """WeasyPrint refused the HTML: it would fail the same way on every retry."""


class LetterChannel:
    """Writes PDFs; "sent" means queued for printing, so a vendor's upload is a separate job."""

    name = "letter"

    def __init__(
        self,
        output_dir: Path,
        *,
        clock: Clock,
        base_url: str | None = None,
        lookback_days: int = LOOKBACK_DAYS,
        stale_seconds: float = STALE_SECONDS,
    ) -> None:
        self.output_dir = Path(output_dir)
        self.clock = clock
        # Relative URLs in a letter resolve against the shipped templates; only local files
        # and data: URLs are fetched, never the network.
        self.base_url = base_url or _TEMPLATES.as_uri() + "/"
        self.lookback_days = lookback_days
        self.stale_seconds = stale_seconds
        self._fetcher = URLFetcher(allowed_protocols=("file", "data"))
        # Past days' manifests rarely change: parse each again only when its size or mtime do.
        self._index: dict[Path, tuple[int, int, dict[int, int]]] = {}
        self._swept_at = float("-inf")

    async def send(self, message: OutboundMessage) -> SendResult:
        postal, html = message.postal, message.html
        if postal is None:
            return _permanent("no_address", "a letter needs a postal address (message.postal)")
        if not html:
            return _permanent("no_html", "a letter needs rendered HTML (message.html)")
        try:
            # The event loop stays free while a worker thread renders.
            return await asyncio.to_thread(self._produce, message, postal, html)
        except RenderFailed as exc:
            return _permanent("render_failed", f"could not render the letter: {exc}")
        except OSError as exc:  # disk full, permissions: may work later
            return SendResult(SendStatus.RETRYABLE, error_code="io_error", error_message=str(exc))

    def _produce(self, message: OutboundMessage, postal: PostalAddress, html: str) -> SendResult:
        """The whole letter in one worker thread: look up, render, commit, publish."""
        now = self.clock.now().astimezone(UTC)
        today = now.date()
        self._sweep(today)
        mid = message.message_id
        found = self._find(mid, today)
        day = found[0] if found else today
        final = self._folder(day) / _pdf_name(mid)
        if found is not None and final.exists():
            return _result(day, mid, final, found[1])  # done before: write nothing
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex[:12]}.tmp")
        try:
            pages = _render_pdf(html, self.base_url, self._fetcher, tmp)
            row = [
                str(mid),
                final.name,
                postal.name,
                postal.line1,
                postal.line2,
                postal.city,
                postal.state,
                postal.zip,
                message.account_ref,
                message.template,
                str(pages),
                now.isoformat(timespec="seconds"),
            ]
            recorded = _commit(final.parent / "manifest.csv", row, tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        return _result(day, mid, final, recorded)

    def _folder(self, day: date) -> Path:
        return self.output_dir / day.isoformat()

    def _days(self, today: date) -> list[date]:
        """Where a re-run looks: today first, then back `lookback_days`, then tomorrow."""
        back = [today - timedelta(days=n) for n in range(self.lookback_days + 1)]
        return [*back, today + timedelta(days=1)]

    def _find(self, message_id: int, today: date) -> tuple[date, int] | None:
        """The day whose manifest lists this message, and the page count it recorded."""
        for day in self._days(today):
            pages = self._recorded(self._folder(day) / "manifest.csv").get(message_id)
            if pages is not None:
                return day, pages
        return None

    def _recorded(self, manifest: Path) -> dict[int, int]:
        try:
            stat = manifest.stat()
        except FileNotFoundError:
            return {}
        cached = self._index.get(manifest)
        if cached is not None and cached[:2] == (stat.st_size, stat.st_mtime_ns):
            return cached[2]
        rows = _parse(manifest.read_text(encoding="utf-8"))
        self._index[manifest] = (stat.st_size, stat.st_mtime_ns, rows)
        return rows

    def _sweep(self, today: date) -> None:
        """Remove stale temporary PDFs in the recent folders, at most once a minute."""
        if time.monotonic() - self._swept_at < _SWEEP_EVERY:
            return
        self._swept_at = time.monotonic()
        cutoff = time.time() - self.stale_seconds
        for day in self._days(today):
            try:
                entries = list(os.scandir(self._folder(day)))
            except OSError:  # no such folder (yet); hygiene never fails a send
                continue
            for entry in entries:
                if entry.name.startswith(".letter-") and entry.name.endswith(".tmp"):
                    try:
                        if entry.stat().st_mtime < cutoff:
                            os.unlink(entry.path)
                    except OSError:
                        pass  # another process swept it first

    async def aclose(self) -> None:
        return None


def _pdf_name(message_id: int) -> str:
    return f"letter-{message_id}.pdf"


def _permanent(code: str, message: str) -> SendResult:
    return SendResult(SendStatus.PERMANENT, error_code=code, error_message=message)


def _result(day: date, message_id: int, pdf: Path, pages: int) -> SendResult:
    return SendResult.sent(
        f"letter-{day.isoformat()}-{message_id}", path=str(pdf), pages=str(pages)
    )


def _parse(text: str) -> dict[int, int]:
    """message id -> pages for each whole row; a torn or foreign row does not count."""
    rows: dict[int, int] = {}
    for row in csv.reader(io.StringIO(text)):
        if len(row) != len(MANIFEST_HEADER) or not row[0].isdigit():
            continue
        mid = int(row[0])
        if row[1] == _pdf_name(mid) and row[PAGES].isdigit():
            rows.setdefault(mid, int(row[PAGES]))
    return rows


def _render_pdf(html: str, base_url: str, fetcher: URLFetcher, tmp: Path) -> int:
    """Write the PDF to `tmp` and sync it to disk; return its page count."""
    with open(tmp, "wb") as fh:
        try:
            pages = write_pdf(html, base_url, fetcher, fh)
        except OSError:
            raise
        except Exception as exc:
            raise RenderFailed(repr(exc)) from exc
        fh.flush()
        os.fsync(fh.fileno())
    return pages


def _commit(manifest: Path, row: list[str], tmp: Path, final: Path) -> int:
    """Append the row unless the message is listed, then put the PDF in place, under one flock.

    Returns the page count the manifest records for the message.
    """
    with _locked(manifest) as fh:
        existing = fh.read()
        pages = _parse(existing).get(int(row[0]))
        if pages is None:
            _append_row(fh, existing, row)
            pages = int(row[PAGES])
        if not final.exists():
            _publish(tmp, final)
        # A killed run's leftovers for this letter; a slower live run finds the letter done
        # under this lock and no longer needs its own.
        for leftover in final.parent.glob(f".{final.name}.*.tmp"):
            leftover.unlink(missing_ok=True)
    return pages


@contextmanager
def _locked(manifest: Path) -> Iterator[IO[str]]:
    """The manifest open for reading and appending, under an exclusive flock.

    flock excludes other open files too, so threads of one process exclude each other.
    """
    created = not manifest.exists()
    with open(manifest, "a+", encoding="utf-8", newline="") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            if created:
                _fsync_dir(manifest.parent)
            fh.seek(0)
            yield fh
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _append_row(fh: IO[str], existing: str, row: list[str]) -> None:
    """The commit point: the row (and the header, for a new file) in one write, flushed and
    synced, so a crash leaves either the whole row or none of it."""
    out = io.StringIO()
    writer = SafeWriter(out, lineterminator="\n")  # names and addresses: never formulas
    if existing and not existing.endswith("\n"):
        out.write("\n")  # a torn last line from an older crash must not swallow this row
    if not existing:
        writer.writerow(MANIFEST_HEADER)
    writer.writerow(row)
    fh.seek(0, os.SEEK_END)
    fh.write(out.getvalue())
    fh.flush()
    os.fsync(fh.fileno())


def _publish(tmp: Path, final: Path) -> None:
    """Give the PDF its final name (atomic: a vendor sees all of it or nothing) and sync it."""
    os.replace(tmp, final)
    _fsync_dir(final.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
