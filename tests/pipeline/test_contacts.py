"""The one rule for which contact point a message on a channel goes to."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from outreach.db.rows import PointRow
from outreach.pipeline.contacts import choose_contact

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
POINT: dict[str, Any] = {
    "debtor_id": 1,
    "address": None,
    "consent": "unknown",
    "opted_out_at": None,
    "undeliverable_at": None,
}


def _point(id: int, kind: str, value: str, label: str | None, **extra: Any) -> PointRow:
    return PointRow(**{**POINT, "id": id, "kind": kind, "value": value, "label": label, **extra})


PHONES = [
    _point(1, "phone", "+12125550101", "home"),
    _point(2, "phone", "+12125550102", "mobile"),
    _point(3, "phone", "+12125550103", "mobile"),
]
EMAILS = [
    _point(4, "email", "jo@work.example", "work"),
    _point(5, "email", "jo@example.com", "personal"),
]
ADDRESS = _point(6, "address", "350 5th Ave, New York, NY 10118", None)
ALL = [*PHONES, *EMAILS, ADDRESS]


def test_sms_prefers_the_oldest_mobile_and_email_a_non_work_address() -> None:
    assert choose_contact(ALL, "sms", frozenset()) is PHONES[1]
    assert choose_contact(ALL, "email", frozenset()) is EMAILS[1]
    assert choose_contact(ALL, "letter", frozenset()) is ADDRESS
    assert choose_contact(ALL, "call", frozenset()) is PHONES[0]  # no preferred label


def test_a_usable_point_wins_over_a_preferred_opted_out_one() -> None:
    opted_out = frozenset({"+12125550102", "+12125550103"})
    assert choose_contact(ALL, "sms", opted_out) is PHONES[0]
    assert choose_contact(ALL, "email", frozenset({"jo@example.com"})) is EMAILS[0]


def test_an_opted_out_point_is_chosen_when_nothing_else_is_on_file() -> None:
    # So the compliance check blocks it with F7, not a silent skip.
    assert choose_contact(PHONES[:1], "sms", frozenset({"+12125550101"})) is PHONES[0]


def test_undeliverable_points_are_never_chosen() -> None:
    dead = [_point(7, "phone", "+12125550107", "mobile", undeliverable_at=NOW)]
    assert choose_contact(dead, "sms", frozenset()) is None
    assert choose_contact([*dead, PHONES[0]], "sms", frozenset()) is PHONES[0]
    assert choose_contact(EMAILS, "letter", frozenset()) is None
