"""Masking keeps the last 4 characters of contact values, in logs and in what agents read."""

from __future__ import annotations

import logging

import pytest

from outreach.masking import MaskingFilter, mask, mask_addresses, mask_text


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
