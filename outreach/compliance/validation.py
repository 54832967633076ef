"""The validation period (F15): when the consumer's 30 days to dispute end.

Regulation F (1006.34(b)(5)) lets us assume receipt 5 days after sending, not counting
Saturdays, Sundays and federal legal public holidays; the period ends 30 days after that.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

RECEIPT_BUSINESS_DAYS = 5
VALIDATION_DAYS = 30


def validation_period_end(sent_on: date) -> date:
    """Last day of the validation period for a notice sent on `sent_on`."""
    return business_days_after(sent_on, RECEIPT_BUSINESS_DAYS) + timedelta(days=VALIDATION_DAYS)


def business_days_after(day: date, n: int) -> date:
    """The n-th weekday after `day` that is not a US federal holiday (observed dates count)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    while n:
        day += timedelta(days=1)
        if is_business_day(day):
            n -= 1
    return day


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _federal_holidays(day.year)


def is_federal_holiday(day: date) -> bool:
    """A US federal holiday, or the weekday on which one is observed."""
    return day in _federal_holidays(day.year)


def holiday_name(day: date) -> str | None:
    return _federal_holidays(day.year).get(day)


@lru_cache(maxsize=64)
def _federal_holidays(year: int) -> dict[date, str]:
    """One year of US federal holidays, copied: the holidays object fills years lazily.
    `holidays` is imported here, on first use: it costs 35 ms, and a decision about an SMS
    or an email (`outreach compliance explain`) never needs it."""
    import holidays

    return dict(holidays.country_holidays("US", years=year))
