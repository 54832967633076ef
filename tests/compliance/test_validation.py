from __future__ import annotations

from datetime import date

import pytest

from outreach.compliance.validation import business_days_after, validation_period_end

# (name, sent_on, assumed receipt, end of validation period)
ROWS: list[tuple[str, date, date, date]] = [
    ("plain week", date(2026, 6, 1), date(2026, 6, 8), date(2026, 7, 8)),
    ("sent on a Saturday", date(2026, 10, 3), date(2026, 10, 9), date(2026, 11, 8)),
    ("over Juneteenth (Fri)", date(2026, 6, 15), date(2026, 6, 23), date(2026, 7, 23)),
    ("over Thanksgiving", date(2026, 11, 20), date(2026, 11, 30), date(2026, 12, 30)),
    ("over Christmas", date(2026, 12, 21), date(2026, 12, 29), date(2027, 1, 28)),
    ("Christmas (Fri, observed Dec 24)", date(2027, 12, 21), date(2027, 12, 29), date(2028, 1, 28)),
    ("New Year observed Dec 31", date(2027, 12, 27), date(2028, 1, 4), date(2028, 2, 3)),
    ("Columbus and Veterans Day", date(2026, 11, 6), date(2026, 11, 16), date(2026, 12, 16)),
]


@pytest.mark.parametrize(
    ("sent_on", "receipt", "end"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS]
)
def test_validation_period_end(sent_on: date, receipt: date, end: date) -> None:
    assert business_days_after(sent_on, 5) == receipt
    assert validation_period_end(sent_on) == end


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (date(2026, 11, 25), 0, date(2026, 11, 25)),
        (date(2026, 11, 25), 1, date(2026, 11, 27)),  # Thanksgiving skipped
        (date(2026, 7, 2), 1, date(2026, 7, 6)),  # July 3rd observed, then the weekend
        (date(2026, 12, 31), 1, date(2027, 1, 4)),  # across the year: New Year, weekend
    ],
)
def test_business_days_after(day: date, n: int, expected: date) -> None:
    assert business_days_after(day, n) == expected


def test_negative_days_rejected() -> None:
    with pytest.raises(ValueError):
        business_days_after(date(2026, 1, 1), -1)
