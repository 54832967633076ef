"""Letters: render the message's HTML to a PDF and list it in the day's print manifest.

The output folder is what a print-and-mail vendor (or the office printer) picks up:
`YYYY-MM-DD/letter-<message_id>.pdf` plus `YYYY-MM-DD/manifest.csv`, one row per letter.
"""

from __future__ import annotations

import asyncio
import csv
import fcntl
import io
import os
import threading
from collections.abc import Callable
from datetime import UTC, date
from pathlib import Path
from typing import Any

from weasyprint import HTML
from weasyprint.urls import URLFetcher

from outreach.channels.base import OutboundMessage, SendResult, SendStatus
from outreach.clock import Clock

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

# WeasyPrint does not promise thread safety, and its layout holds the GIL anyway: render one
# letter at a time per process; the event loop stays free while a worker thread renders.
_RENDER_LOCK = threading.Lock()
_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


class LetterChannel:
    """Writes PDFs; "sent" means queued for printing, so a vendor's upload is a separate job."""

    name = "letter"

    def __init__(
        self,
        output_dir: Path,
        *,
        clock: Clock,
        base_url: str | None = None,
    ) -> None:
        self.output_dir = Path(output_dir)
        self.clock = clock
        # Relative URLs in a letter resolve against the shipped templates; only local files
        # and data: URLs are fetched, never the network.
        self.base_url = base_url or _TEMPLATES.as_uri() + "/"
        self._fetcher = URLFetcher(allowed_protocols=("file", "data"))
        self._lock = asyncio.Lock()

    async def send(self, message: OutboundMessage) -> SendResult:
        postal, html = message.postal, message.html
        if postal is None:
            return _permanent("no_address", "a letter needs a postal address (message.postal)")
        if not html:
            return _permanent("no_html", "a letter needs rendered HTML (message.html)")
        day = self.clock.now().astimezone(UTC).date()
        folder = self.output_dir / day.isoformat()
        pdf = folder / f"letter-{message.message_id}.pdf"
        manifest = folder / "manifest.csv"
        try:
            done = await asyncio.to_thread(_manifest_pages, manifest, message.message_id)
            if done is not None and pdf.exists():
                return _result(day, message, pdf, done)
            try:
                pages = await asyncio.to_thread(self._write_pdf, html, pdf)
            except OSError:
                raise
            except Exception as exc:  # WeasyPrint would fail the same way on every retry
                return _permanent("render_failed", f"could not render the letter: {exc!r}")
            row = [
                str(message.message_id),
                pdf.name,
                postal.name,
                postal.line1,
                postal.line2,
                postal.city,
                postal.state,
                postal.zip,
                message.account_ref,
                message.template,
                str(pages),
                self.clock.now().astimezone(UTC).isoformat(timespec="seconds"),
            ]
            async with self._lock:  # one writer per process; flock guards other processes
                recorded = await asyncio.to_thread(_append_once, manifest, row)
        except OSError as exc:  # disk full, permissions: may work later
            return SendResult(SendStatus.RETRYABLE, error_code="io_error", error_message=str(exc))
        return _result(day, message, pdf, recorded)

    def _write_pdf(self, html: str, target: Path) -> int:
        """Render in a worker thread; write under a temporary name, then rename into place."""
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}-{threading.get_ident()}.tmp")
        try:
            with _RENDER_LOCK:
                html_doc = HTML(string=html, base_url=self.base_url, url_fetcher=self._fetcher)
                document = html_doc.render()
                document.write_pdf(tmp)
            os.replace(tmp, target)  # readers never see a half-written PDF
        finally:
            tmp.unlink(missing_ok=True)
        return len(document.pages)

    async def aclose(self) -> None:
        return None


def _permanent(code: str, message: str) -> SendResult:
    return SendResult(SendStatus.PERMANENT, error_code=code, error_message=message)


def _result(day: date, message: OutboundMessage, pdf: Path, pages: int) -> SendResult:
    return SendResult.sent(
        f"letter-{day.isoformat()}-{message.message_id}", path=str(pdf), pages=str(pages)
    )


def _find_pages(text: str, message_id: int) -> int | None:
    wanted = str(message_id)
    for row in csv.DictReader(io.StringIO(text)):
        if row.get("message_id") == wanted:
            return int(row.get("pages") or 0)
    return None


def _manifest_pages(manifest: Path, message_id: int) -> int | None:
    """The page count recorded for this message today, or None if it is not in the manifest."""
    try:
        text = manifest.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return _find_pages(text, message_id)


def _locked(manifest: Path, action: Callable[[Any], int]) -> int:
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with open(manifest, "a+", encoding="utf-8", newline="") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            return action(fh)
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _append_once(manifest: Path, row: list[str]) -> int:
    """Append `row` unless its message is already listed; return the recorded page count.

    The row (and the header, for a new file) goes out in one write and is flushed and synced,
    so a crash leaves either the whole row or none of it.
    """

    def append(fh: Any) -> int:
        fh.seek(0)
        existing = fh.read()
        pages = _find_pages(existing, int(row[0])) if existing else None
        if pages is not None:
            return pages
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        if existing and not existing.endswith("\n"):
            out.write("\n")  # a torn last line from an older crash must not swallow this row
        if not existing:
            writer.writerow(MANIFEST_HEADER)
        writer.writerow(row)
        fh.seek(0, os.SEEK_END)
        fh.write(out.getvalue())
        fh.flush()
        os.fsync(fh.fileno())
        return int(row[10])

    return _locked(manifest, append)
