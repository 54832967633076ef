"""Every rule the engine reports, as one table: scenario -> verdict, not_before, rule ids.

The shipped policy (config/policy.yaml) unless a row says otherwise. 2026-11-24 is a Tuesday;
15:00 UTC is 10:00 in New York and Philadelphia, 07:00 in Los Angeles.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from outreach.compliance import (
    AccountSnapshot,
    Attempt,
    Contact,
    DebtorSnapshot,
    EmailAddress,
    InconvenientTime,
    Policy,
    Verdict,
    Window,
    evaluate,
    rules,
)
from outreach.compliance.policy import StateRule
from tests.compliance.common import SHIPPED, contacts, utc

NOW = utc(2026, 11, 24, 15)
PA = DebtorSnapshot(state="PA", zip="19103")  # Philadelphia: New York time, no state rules
ACCOUNT = AccountSnapshot(id=1, state="PA")
SMS = Attempt("sms", to="+12155550143")
EMAIL = Attempt("email", to="pat@example.com")
LETTER = Attempt("letter")
CALL = Attempt("call", to="+12155550143")
MON_FRI = frozenset(range(5))
HOLIDAYS = SHIPPED.model_copy(update={"holidays": True})
DISPUTES_ALLOWED = SHIPPED.model_copy(update={"dispute_outside_validation_period": "allow"})
FL_NARROW = SHIPPED.model_copy(
    update={"states": {"FL": StateRule(window=Window(start=time(9), end=time(20)))}}
)


def stated(
    start: str, end: str, days: frozenset[int] | None = None, channel: str | None = None
) -> InconvenientTime:
    return InconvenientTime(time.fromisoformat(start), time.fromisoformat(end), days, channel)


def pa(**changes: Any) -> DebtorSnapshot:
    return replace(PA, **changes)


def calls(*spec: tuple[int, int, int, str]) -> tuple[Contact, ...]:
    """(month, day, hour UTC, "attempt" | "conversation") -> calls on account 1."""
    return tuple(
        Contact(utc(2026, m, d, h), "call", "conversation" if k == "conversation" else "attempt", 1)
        for m, d, h, k in spec
    )


@dataclass(frozen=True)
class Row:
    name: str
    verdict: Verdict
    not_before: datetime | None = None
    rules: tuple[str, ...] = ()
    now: datetime = NOW
    attempt: Attempt = SMS
    debtor: DebtorSnapshot = PA
    account: AccountSnapshot = ACCOUNT
    history: tuple[Contact, ...] = ()
    policy: Policy = SHIPPED
    reasons: tuple[str, ...] = field(default=())  # substrings expected among the reasons


ROWS = [
    Row("allow: 10:00 in Philadelphia", Verdict.ALLOW),
    # F1 / F2: window, time zones, DST
    Row("F1: 06:00", Verdict.DEFER, utc(2026, 11, 24, 13), ("F1",), now=utc(2026, 11, 24, 11)),
    Row(
        "F1: 21:00 is outside",
        Verdict.DEFER,
        utc(2026, 11, 25, 13),
        ("F1",),
        now=utc(2026, 11, 25, 2),
    ),
    Row(
        "F1: spring forward, 07:00 EDT",
        Verdict.DEFER,
        utc(2026, 3, 8, 12),
        ("F1",),
        now=utc(2026, 3, 8, 11),
    ),
    Row(
        "F1: fall back, 07:00 EST",
        Verdict.DEFER,
        utc(2026, 11, 1, 13),
        ("F1",),
        now=utc(2026, 11, 1, 12),
    ),
    Row(
        "F1: Hawaii has no DST (July)",
        Verdict.DEFER,
        utc(2026, 7, 1, 18),
        ("F1",),
        now=utc(2026, 7, 1, 17, 30),
        attempt=Attempt("sms", to="+18085551234"),  # a Honolulu phone
        debtor=DebtorSnapshot(state="HI", zip="96813"),
    ),
    Row(
        "F1: Anchorage 07:00 AKST",
        Verdict.DEFER,
        utc(2026, 11, 24, 17),
        ("F1",),
        now=utc(2026, 11, 24, 16),
        attempt=EMAIL,  # no phone: the ZIP alone decides
        debtor=DebtorSnapshot(state="AK", zip="99501"),
    ),
    Row(
        "F1: 208-343 Boise exchange is Mountain",
        Verdict.DEFER,
        utc(2026, 11, 24, 15),
        ("F1",),
        now=utc(2026, 11, 24, 14, 30),
        attempt=Attempt("sms", to="+12083431234"),
        debtor=DebtorSnapshot(phones=("+12083431234",)),
    ),
    Row(
        "F1: 208-664 north Idaho exchange is Pacific",
        Verdict.DEFER,
        utc(2026, 11, 24, 16),
        ("F1",),
        now=utc(2026, 11, 24, 14, 30),
        attempt=Attempt("sms", to="+12086641234"),
        debtor=DebtorSnapshot(phones=("+12086641234",)),
    ),
    Row(
        "F2: Los Angeles ZIP, New York phone",
        Verdict.DEFER,
        utc(2026, 11, 24, 16),
        ("F1", "F2"),
        debtor=DebtorSnapshot(state="CA", zip="90012", phones=("+12125551234",)),
        account=AccountSnapshot(id=1, state="CA"),
        reasons=("07:00 in America/Los_Angeles", "Location unclear"),
    ),
    Row(
        "F2: a stated zone replaces the conflicting evidence",
        Verdict.ALLOW,
        debtor=DebtorSnapshot(
            state="CA", zip="90012", phones=("+12125551234",), timezone="America/New_York"
        ),
        account=AccountSnapshot(id=1, state="CA"),
    ),
    # F3: consumer-stated inconvenient times
    Row(
        "F3: not before 12:00",
        Verdict.DEFER,
        utc(2026, 11, 24, 17),
        ("F3",),
        debtor=pa(inconvenient_times=(stated("00:00", "12:00"),)),
        reasons=("00:00-12:00",),
    ),
    Row(
        "F3: not on weekdays 09:00-17:00 (Tuesday)",
        Verdict.DEFER,
        utc(2026, 11, 24, 22),
        ("F3",),
        debtor=pa(inconvenient_times=(stated("09:00", "17:00", MON_FRI),)),
        reasons=("09:00-17:00 on Mon, Tue, Wed, Thu, Fri",),
    ),
    Row(
        "F3: not on weekdays 09:00-17:00 (Saturday)",
        Verdict.ALLOW,
        now=utc(2026, 11, 28, 15),
        debtor=pa(inconvenient_times=(stated("09:00", "17:00", MON_FRI),)),
    ),
    Row(
        "F3: limited to email, an SMS goes",
        Verdict.ALLOW,
        debtor=pa(inconvenient_times=(stated("09:00", "17:00", channel="email"),)),
    ),
    Row(
        "F3: limited to email, an email waits",
        Verdict.DEFER,
        utc(2026, 11, 24, 22),
        ("F3",),
        attempt=EMAIL,
        debtor=pa(inconvenient_times=(stated("09:00", "17:00", channel="email"),)),
    ),
    Row(
        "F3: 22:00-09:00 runs past midnight",
        Verdict.DEFER,
        utc(2026, 11, 24, 14),
        ("F3",),
        now=utc(2026, 11, 24, 13, 30),
        debtor=pa(inconvenient_times=(stated("22:00", "09:00"),)),
    ),
    Row(
        "F3 after F1: both named",
        Verdict.DEFER,
        utc(2026, 11, 24, 17),
        ("F1", "F3"),
        now=utc(2026, 11, 24, 11),
        debtor=pa(inconvenient_times=(stated("00:00", "12:00"),)),
    ),
    Row(
        "F3: no time left blocks",
        Verdict.BLOCK,
        rules=("F3",),
        debtor=pa(inconvenient_times=(stated("07:00", "22:00"),)),
    ),
    # Holidays (policy switch)
    Row(
        "holiday: Thanksgiving waits for Friday 08:00",
        Verdict.DEFER,
        utc(2026, 11, 27, 13),
        ("holiday",),
        now=utc(2026, 11, 26, 15),
        policy=HOLIDAYS,
        reasons=("Thanksgiving Day (2026-11-26)",),
    ),
    Row("holiday: switch off", Verdict.ALLOW, now=utc(2026, 11, 26, 15)),
    Row(
        "holiday after F1",
        Verdict.DEFER,
        utc(2026, 11, 27, 13),
        ("F1", "holiday"),
        now=utc(2026, 11, 26, 2, 30),
        policy=HOLIDAYS,
    ),
    # Promises to pay
    Row(
        "promise: collection waits for the day after the due date",
        Verdict.DEFER,
        utc(2026, 11, 26, 13),
        ("promise", "F1"),
        account=AccountSnapshot(id=1, state="PA", promise_due_on=date(2026, 11, 25)),
    ),
    Row(
        "promise: the follow-up is not paused",
        Verdict.ALLOW,
        attempt=Attempt("sms", to="+12155550143", kind="promise_followup"),
        account=AccountSnapshot(id=1, state="PA", promise_due_on=date(2026, 11, 25)),
    ),
    Row(
        "promise: past due, nothing paused",
        Verdict.ALLOW,
        account=AccountSnapshot(id=1, state="PA", promise_due_on=date(2026, 11, 23)),
    ),
    # Holds
    Row("F5: attorney", Verdict.BLOCK, rules=("F5",), debtor=pa(holds=frozenset({"attorney"}))),
    Row("F6: cease", Verdict.BLOCK, rules=("F6",), debtor=pa(holds=frozenset({"cease"}))),
    Row(
        "F6: cease lets the acknowledgement through",
        Verdict.ALLOW,
        attempt=Attempt("letter", kind="cease_ack"),
        debtor=pa(holds=frozenset({"cease"})),
    ),
    Row(
        "F7: opted out of SMS",
        Verdict.BLOCK,
        rules=("F7",),
        debtor=pa(holds=frozenset({"opt_out:sms"})),
    ),
    Row(
        "F7: that number opted out",
        Verdict.BLOCK,
        rules=("F7",),
        debtor=pa(opted_out=frozenset({"+12155550143"})),
    ),
    Row(
        "F7: the one confirmation goes, even at 03:00 (a response)",
        Verdict.ALLOW,
        now=utc(2026, 11, 24, 8),
        attempt=Attempt("sms", to="+12155550143", kind="opt_out_confirmation"),
        debtor=pa(opted_out=frozenset({"+12155550143"})),
    ),
    Row(
        "bankruptcy",
        Verdict.BLOCK,
        rules=("bankruptcy",),
        account=AccountSnapshot(id=1, holds=frozenset({"bankruptcy"})),
    ),
    Row("deceased", Verdict.BLOCK, rules=("deceased",), debtor=pa(holds=frozenset({"deceased"}))),
    Row(
        "F12: work email",
        Verdict.BLOCK,
        rules=("F12",),
        attempt=EMAIL,
        debtor=pa(emails=(EmailAddress("pat@example.com", work=True),)),
    ),
    Row(
        "F12: work email the consumer consented to",
        Verdict.ALLOW,
        attempt=EMAIL,
        debtor=pa(emails=(EmailAddress("pat@example.com", work=True, consented=True),)),
    ),
    Row(
        "F17 + F15: dispute within the validation period",
        Verdict.BLOCK,
        rules=("F17", "F15"),
        account=AccountSnapshot(
            id=1,
            holds=frozenset({"dispute"}),
            validation_notice_sent_at=utc(2026, 11, 2, 15),
            disputed_at=utc(2026, 11, 20, 15),
        ),
        reasons=("ends 2026-12-09",),
    ),
    Row(
        # 21:00 EST on the period's last day is Dec 10 in UTC: the consumer's date decides
        "F17 + F15: a dispute late on the last day is timely (local date)",
        Verdict.BLOCK,
        rules=("F17", "F15"),
        account=AccountSnapshot(
            id=1,
            holds=frozenset({"dispute"}),
            validation_notice_sent_at=utc(2026, 11, 2, 15),
            disputed_at=utc(2026, 12, 10, 2),
        ),
        policy=DISPUTES_ALLOWED,
        reasons=("disputed the debt on 2026-12-09, within the validation period",),
    ),
    Row(
        "F17: a dispute just after the last day, policy allows",
        Verdict.ALLOW,
        account=AccountSnapshot(
            id=1,
            holds=frozenset({"dispute"}),
            validation_notice_sent_at=utc(2026, 11, 2, 15),
            disputed_at=utc(2026, 12, 10, 5, 30),  # 00:30 EST, Dec 10
        ),
        policy=DISPUTES_ALLOWED,
    ),
    Row(
        "F17: the validation notice still goes",
        Verdict.ALLOW,
        attempt=Attempt("letter", kind="validation_notice"),
        account=AccountSnapshot(id=1, holds=frozenset({"dispute"})),
    ),
    Row(
        "F17: dispute after the period, policy holds (default)",
        Verdict.BLOCK,
        rules=("F17", "F15"),
        account=AccountSnapshot(
            id=1,
            holds=frozenset({"dispute"}),
            validation_notice_sent_at=utc(2026, 9, 1, 15),
            disputed_at=utc(2026, 11, 20, 15),
        ),
        reasons=("ended 2026-10-09",),  # 5 business days (Labor Day skipped) + 30
    ),
    Row(
        "F17: dispute after the period, policy allows",
        Verdict.ALLOW,
        account=AccountSnapshot(
            id=1,
            holds=frozenset({"dispute"}),
            validation_notice_sent_at=utc(2026, 9, 1, 15),
            disputed_at=utc(2026, 11, 20, 15),
        ),
        policy=DISPUTES_ALLOWED,
    ),
    Row(
        "F18: a template that threatens suit, time-barred",
        Verdict.BLOCK,
        rules=("F18",),
        attempt=Attempt("letter", kind="collection", threatens_suit=True),
        account=AccountSnapshot(id=1, time_barred=True),
    ),
    Row(
        "F18: the same template on a debt that is not time-barred",
        Verdict.ALLOW,
        attempt=Attempt("letter", kind="collection", threatens_suit=True),
    ),
    # F8: calls, per account, in local calendar days
    Row(
        "F8: 7 calls in 7 days; room again when the oldest day leaves",
        Verdict.DEFER,
        utc(2026, 11, 27, 13),
        ("F8", "F1"),
        attempt=CALL,
        history=calls(
            *[(11, 20, 16, "attempt")] * 3,
            *[(11, 21, 16, "attempt")] * 2,
            *[(11, 22, 16, "attempt")] * 2,
        ),
    ),
    Row(
        "F8: 6 calls in 7 days leave room",
        Verdict.ALLOW,
        attempt=CALL,
        history=calls(*[(11, 21, 16, "attempt")] * 6),
    ),
    Row(
        "F8: conversation yesterday, calls from day 8",
        Verdict.DEFER,
        utc(2026, 11, 30, 13),
        ("F8", "F1"),
        attempt=CALL,
        history=calls((11, 23, 16, "conversation")),
        reasons=("calls may resume 2026-11-30",),
    ),
    Row(
        "F8: conversation on 17 Nov 23:00 local (18 Nov UTC): today is day 8",
        Verdict.ALLOW,
        attempt=CALL,
        history=calls((11, 18, 4, "conversation")),
    ),
    Row(
        "F8: a conversation about another account does not count",
        Verdict.ALLOW,
        attempt=CALL,
        history=(Contact(utc(2026, 11, 23, 16), "call", "conversation", 2),),
    ),
    Row(
        "F8: calls do not hold back an SMS",
        Verdict.ALLOW,
        history=calls((11, 23, 16, "conversation")),
    ),
    # F10: frequency caps, and who is exempt
    Row(
        "F10: three SMS this week",
        Verdict.DEFER,
        utc(2026, 11, 25, 15),
        ("F10",),
        history=contacts(NOW, ("sms", 6), ("sms", 3), ("sms", 1.5)),
        reasons=("'sms-weekly' reached",),
    ),
    Row(
        "F10: a validation notice is never capped",
        Verdict.ALLOW,
        attempt=Attempt("letter", kind="validation_notice"),
        history=contacts(NOW, ("sms", 6), ("email", 5), ("sms", 3), ("email", 2), ("letter", 1)),
    ),
    Row(
        "F10: a collection letter is",
        Verdict.DEFER,
        utc(2026, 11, 25, 15),
        ("F10",),
        attempt=LETTER,
        history=contacts(NOW, ("sms", 6), ("email", 5), ("sms", 3), ("email", 2), ("letter", 1)),
    ),
    Row(
        "F10: calls do not count toward all-weekly (shipped)",
        Verdict.ALLOW,
        attempt=LETTER,
        history=calls(*[(11, 21, 16, "attempt")] * 6),
    ),
    # State overrides
    Row(
        "MA: two texts this week on the account",
        Verdict.DEFER,
        utc(2026, 11, 29, 13),
        ("MA", "F1"),
        debtor=DebtorSnapshot(state="MA", zip="02108"),
        history=contacts(NOW, ("sms", 2.5), ("sms", 1.5)),
    ),
    Row(
        "MA: a call and a text count together",
        Verdict.DEFER,
        rules=("MA",),
        not_before=utc(2026, 11, 28, 16),
        debtor=DebtorSnapshot(state="MA", zip="02108"),
        history=(*calls((11, 21, 16, "attempt")), *contacts(NOW, ("sms", 1.5))),
    ),
    Row(
        "MA: texts about another account do not count",
        Verdict.ALLOW,
        debtor=DebtorSnapshot(state="MA", zip="02108"),
        history=contacts(NOW, ("sms", 2.5), ("sms", 1.5), account_id=2),
    ),
    Row(
        "WA: three communications this week, a call among them",
        Verdict.DEFER,
        utc(2026, 11, 26, 20),
        ("WA",),
        now=utc(2026, 11, 24, 20),
        attempt=EMAIL,
        debtor=DebtorSnapshot(state="WA", zip="98101"),
        history=(
            *contacts(utc(2026, 11, 24, 20), ("letter", 5), ("email", 3)),
            *calls((11, 22, 20, "attempt")),
        ),
    ),
    Row(
        "NYC: three contacts on the account this week",
        Verdict.DEFER,
        utc(2026, 11, 26, 15),
        ("NYC",),
        debtor=DebtorSnapshot(state="NY", zip="10001", consented=frozenset({"+12155550143"})),
        history=(*contacts(NOW, ("letter", 5), ("email", 3)), *calls((11, 22, 15, "attempt"))),
    ),
    Row(
        "NYC: contacts on another account do not count",
        Verdict.ALLOW,
        debtor=DebtorSnapshot(state="NY", zip="10001", consented=frozenset({"+12155550143"})),
        history=contacts(NOW, ("letter", 5), ("email", 3), ("sms", 2), account_id=2),
    ),
    Row(
        "NYC: texts need consent",
        Verdict.BLOCK,
        rules=("NYC",),
        debtor=DebtorSnapshot(state="NY", zip="11201"),  # Brooklyn
    ),
    Row(
        "NYC: not Albany",
        Verdict.ALLOW,
        debtor=DebtorSnapshot(state="NY", zip="12207"),
    ),
    Row(
        "FL: a narrower state window is named",
        Verdict.DEFER,
        utc(2026, 11, 24, 14),
        ("FL",),
        now=utc(2026, 11, 24, 13, 30),
        debtor=DebtorSnapshot(state="FL", zip="33131"),
        policy=FL_NARROW,
        reasons=("FL rules allow contact only 09:00-20:00",),
    ),
    Row(
        "FL: shipped window equals F1",
        Verdict.DEFER,
        utc(2026, 11, 24, 13),
        ("F1",),
        now=utc(2026, 11, 24, 12, 30),
        debtor=DebtorSnapshot(state="FL", zip="33131"),
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_rule(row: Row) -> None:
    decision = evaluate(row.attempt, row.debtor, row.account, row.history, row.policy, row.now)
    assert (decision.verdict, decision.rules) == (row.verdict, row.rules), decision.reasons
    assert decision.not_before == row.not_before, decision.reasons
    if decision.verdict is not Verdict.ALLOW:
        assert len(decision.reasons) >= 1
    joined = " ".join(decision.reasons)
    for fragment in row.reasons:
        assert fragment in joined


CONTENT_RULES = {"F11", "F14", "CA", "sms-segments"}  # tests/compliance/test_content.py


def test_every_rule_id_has_a_row() -> None:
    covered = {rule for row in ROWS for rule in row.rules} | CONTENT_RULES | {"F18"}
    assert set(rules.TITLES) <= covered


def test_a_later_minute_is_the_answer_for_a_deferral() -> None:
    """not_before is itself allowed: asking again then gives ALLOW."""
    for row in ROWS:
        if row.verdict is Verdict.DEFER:
            assert row.not_before is not None
            args = (row.attempt, row.debtor, row.account, row.history, row.policy)
            again = evaluate(*args, row.not_before)
            assert again.verdict is Verdict.ALLOW, (row.name, again.reasons)
            earlier = row.not_before - timedelta(minutes=1)
            before = evaluate(*args, earlier)
            assert before.verdict is Verdict.DEFER, row.name
