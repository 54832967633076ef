"""Mask phone numbers, emails and account numbers to their last 4 characters.

Used for everything printed or logged; full values appear only where an agent needs them.
"""

from __future__ import annotations

import logging
import re

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


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(MaskingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
