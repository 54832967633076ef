"""Blocking rules: conditions under which nothing (or nothing on one medium or address) may
be sent. They outrank time: a blocked attempt is not deferred, because waiting does not lift
it (a hold is lifted by a person or an event: verification sent, consent given).
"""

from __future__ import annotations

from collections.abc import Sequence

from outreach.compliance import rules
from outreach.compliance.local_dates import dispute_timing
from outreach.compliance.policy import Policy
from outreach.compliance.types import AccountSnapshot, Attempt, DebtorSnapshot
from outreach.vocabulary import RESPONSE_KINDS, MessageKind

# F6 still allows a notice that collection efforts end, or of a specific remedy.
CEASE_ALLOWS: frozenset[str] = frozenset({MessageKind.CEASE_ACK, MessageKind.REMEDY})
# F7 allows one message confirming the opt-out; counting it to one is the sender's job.
OPT_OUT_ALLOWS: frozenset[str] = frozenset({MessageKind.OPT_OUT_CONFIRMATION})
# F17 stops collection, not the notices: the validation notice itself, cease and remedy
# notices, and answers to the consumer.
DISPUTE_ALLOWS: frozenset[str] = frozenset(
    {MessageKind.VALIDATION_NOTICE, MessageKind.CEASE_ACK, MessageKind.REMEDY, *RESPONSE_KINDS}
)

_WHY: dict[str, str] = {
    "cease": "asked us in writing to stop communicating; only a cease acknowledgement or a "
    "remedy notice may be sent",
    "attorney": "is represented by an attorney for this debt; contact the attorney instead",
    "bankruptcy": "is in bankruptcy; collection is stayed",
    "deceased": "is recorded as deceased",
}


def check_holds(
    attempt: Attempt,
    debtor: DebtorSnapshot,
    account: AccountSnapshot,
    policy: Policy,
    places: frozenset[str] = frozenset(),
    zones: Sequence[str] = (),
) -> list[tuple[str, str]]:
    """Every (rule_id, reason) that blocks `attempt`; [] when nothing blocks it. `zones`
    are the consumer's candidate zones: a dispute's timing is judged on local dates."""
    fired: list[tuple[str, str]] = []
    if debtor.holds or account.holds:
        blocking = policy.blocking_hold_set
        for owner, holds in (("consumer", debtor.holds), ("account", account.holds)):
            for kind in sorted(holds & blocking):
                subject = (
                    "The consumer"
                    if owner == "consumer"
                    else f"On account {account.id}, the consumer"
                )
                if kind == "dispute":
                    fired.extend(_dispute(attempt, account, policy, subject, zones))
                    continue
                if kind == "cease" and attempt.kind in CEASE_ALLOWS:
                    continue
                why = _WHY.get(kind, f"has a {kind!r} hold")
                fired.append((rules.HOLD_RULES.get(kind, kind), f"{subject} {why}."))
    address = _address(attempt)
    if attempt.kind not in OPT_OUT_ALLOWS and (debtor.holds or debtor.opted_out):
        fired.extend((rules.OPT_OUT, reason) for reason in _opt_outs(attempt, address, debtor))
    if attempt.channel == "email" and address:
        fired.extend(_work_email(address, debtor))
    if address and address not in debtor.opted_out:  # an opt-out already blocks it (F7)
        for place in policy.consent_places(attempt.channel, places):
            if not _consented(address, debtor):
                fired.append(
                    (
                        place,
                        f"{place} rules need the consumer's consent before contacting them by "
                        f"{attempt.channel}; none is recorded for {address}.",
                    )
                )
    if attempt.threatens_suit and account.time_barred:
        fired.append(
            (
                rules.TIME_BARRED,
                "The account is time-barred and the template threatens suit.",
            )
        )
    return fired


def _dispute(
    attempt: Attempt,
    account: AccountSnapshot,
    policy: Policy,
    subject: str,
    zones: Sequence[str],
) -> list[tuple[str, str]]:
    """F17 (with the F15 period): hold collection until verification is sent. Timely or
    late is decided on the consumer's dates (local_dates.dispute_timing), never UTC's."""
    if attempt.kind in DISPUTE_ALLOWS:
        return []
    sent, disputed = account.validation_notice_sent_at, account.disputed_at
    if sent is None or disputed is None:
        return [
            (
                rules.DISPUTE,
                f"{subject} disputed the debt; no collection until verification has been sent.",
            )
        ]
    timing = dispute_timing(sent, disputed, zones)
    ends, disputed_on = timing.period_ends, timing.disputed_on
    if timing.within:
        return [
            (
                rules.DISPUTE,
                f"{subject} disputed the debt on {disputed_on:%Y-%m-%d}, within the validation "
                f"period (it ends {ends:%Y-%m-%d}); no collection until verification has "
                "been sent.",
            ),
            (rules.VALIDATION_PERIOD, f"The validation period ends {ends:%Y-%m-%d}."),
        ]
    if policy.dispute_outside_validation_period == "allow":
        return []
    return [
        (
            rules.DISPUTE,
            f"{subject} disputed the debt on {disputed_on:%Y-%m-%d}, after the validation period "
            f"ended ({ends:%Y-%m-%d}); the policy still holds collection until verification "
            "has been sent.",
        ),
        (rules.VALIDATION_PERIOD, f"The validation period ended {ends:%Y-%m-%d}."),
    ]


def _address(attempt: Attempt) -> str | None:
    if not attempt.to:
        return None
    address = attempt.to.strip()
    return address.lower() if attempt.channel == "email" else address


def _opt_outs(attempt: Attempt, address: str | None, debtor: DebtorSnapshot) -> list[str]:
    reasons: list[str] = []
    if f"opt_out:{attempt.channel}" in debtor.holds:
        reasons.append(f"The consumer asked us to stop contacting them by {attempt.channel}.")
    if address and address in debtor.opted_out:
        reasons.append(f"The consumer opted out of messages to {address}.")
    return reasons


def _work_email(address: str, debtor: DebtorSnapshot) -> list[tuple[str, str]]:
    """F12: never to a known employer address unless the consumer used it or consented."""
    for email in debtor.emails:
        if email.work and email.address.lower() == address and not _consented(address, debtor):
            return [
                (
                    rules.WORK_EMAIL,
                    f"{address} is a work email address and the consumer has not used it "
                    "with us or consented to it.",
                )
            ]
    return []


def _consented(address: str, debtor: DebtorSnapshot) -> bool:
    if address in debtor.consented:
        return True
    return any(e.consented and e.address.lower() == address for e in debtor.emails)
