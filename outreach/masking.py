"""Mask phone numbers, emails and account numbers to their last 4 characters, and the
logging set-up that applies it to every line logged (text or JSON).

Used for everything printed or logged; full values appear only where an agent needs them.
"""

from __future__ import annotations

import logging
import re
from types import TracebackType
from typing import Any

from pythonjsonlogger.json import JsonFormatter

_ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# E.164 or loosely formatted phone numbers, and long digit runs (account numbers).
_PHONE = re.compile(r"\+?\d[\d\s().-]{8,}\d")
_LONG_DIGITS = re.compile(r"\b[A-Z0-9-]*\d{6,}[A-Z0-9-]*\b")
_E164 = re.compile(r"\+\d{8,15}\b")


def mask(value: str | None, keep: int = 4) -> str:
    """'+15551234567' -> '********4567'. Short values are fully masked."""
    if not value:
        return ""
    if len(value) <= keep:
        return "*" * len(value)
    return "*" * (len(value) - keep) + value[-keep:]


def mask_text(text: str) -> str:
    """Mask every email, phone number and account-like number inside free text."""
    text = _EMAIL.sub(lambda m: mask(m.group(0)), text)
    text = _PHONE.sub(lambda m: mask(m.group(0)), text)
    return _LONG_DIGITS.sub(lambda m: mask(m.group(0)), text)


def mask_addresses(text: str) -> str:
    """Mask emails and E.164 numbers only: for text outreach wrote itself (decision reasons),
    where dates and times must stay readable and addresses are always normalized."""
    text = _EMAIL.sub(lambda m: mask(m.group(0)), text)
    return _E164.sub(lambda m: mask(m.group(0)), text)


class MaskingFilter(logging.Filter):
    """A logging filter that masks sensitive values in every record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class _MaskingFormatter(logging.Formatter):
    """Text lines; tracebacks are masked too (an exception may quote a number or address)."""

    def formatException(self, ei: _ExcInfo) -> str:
        return mask_text(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return mask_text(super().formatStack(stack_info))


class _MaskingJsonFormatter(JsonFormatter):
    """One JSON object per line; every string field but the fixed ones is masked (the
    message, a traceback, values passed with `extra=`)."""

    _FIXED = frozenset({"timestamp", "level", "logger"})

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {
            key: mask_text(value) if isinstance(value, str) and key not in self._FIXED else value
            for key, value in log_data.items()
        }


class _SkippedRunFilter(logging.Filter):
    """APScheduler 3 warns each time a job is due while its previous run still runs. With
    max_instances=1 skipping that run is the design (a slow tick is never run twice), not a
    fault; its other warnings (missed runs, job errors) still show."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in str(record.msg)


LOG_FORMATS = ("text", "json")
# Chatty at INFO: the twilio client logs ~8 lines per request (headers, status).
# APScheduler logs a line per job run and per job added; WeasyPrint one per rendering step.
QUIET_LOGGERS = ("twilio", "apscheduler.executors", "apscheduler.scheduler", "weasyprint")
SKIPPED_RUN_LOGGERS = ("apscheduler.scheduler", "apscheduler.executors.default")
_SKIPPED_RUN = _SkippedRunFilter()


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler configure_logging installs; it remembers its format."""

    def __init__(self, log_format: str) -> None:
        super().__init__()
        self.log_format = log_format
        self.addFilter(MaskingFilter())
        if log_format == "json":
            self.setFormatter(
                _MaskingJsonFormatter(
                    "%(levelname)s %(name)s %(message)s",
                    rename_fields={"levelname": "level", "name": "logger"},
                    timestamp=True,
                )
            )
        else:
            self.setFormatter(_MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))


def configure_logging(level: int = logging.INFO, log_format: str | None = None) -> None:
    """Log to stderr, masked, as text lines or JSON objects (`--log-format`). Without a
    format, keep the one an earlier call chose (a command that only changes the level)."""
    if log_format is None:
        current = [h.log_format for h in logging.getLogger().handlers if isinstance(h, _Handler)]
        log_format = current[0] if current else "text"
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}: {log_format!r}")
    root = logging.getLogger()
    root.handlers[:] = [_Handler(log_format)]
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    for name in SKIPPED_RUN_LOGGERS:
        logging.getLogger(name).addFilter(_SKIPPED_RUN)  # once: addFilter skips a duplicate
