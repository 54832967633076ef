"""Blocking holds: conditions under which nothing (or nothing on one medium) may be sent.

Holds outrank time: a blocked attempt is not deferred, because waiting does not lift it.
"""

from __future__ import annotations

from outreach.compliance import rules
from outreach.compliance.policy import Policy
from outreach.compliance.types import AccountSnapshot, Attempt, DebtorSnapshot

# F6 still allows a notice that collection efforts end, or of a specific remedy.
CEASE_ALLOWS: frozenset[str] = frozenset({"cease_ack", "remedy"})
# F7 allows one message confirming the opt-out; counting it to one is the sender's job.
OPT_OUT_ALLOWS: frozenset[str] = frozenset({"opt_out_confirmation"})

_WHY: dict[str, str] = {
    "cease": "asked us in writing to stop communicating; only a cease acknowledgement or a "
    "remedy notice may be sent",
    "attorney": "is represented by an attorney for this debt; contact the attorney instead",
    "dispute": "disputed the debt; no collection until verification has been sent",
    "bankruptcy": "is in bankruptcy; collection is stayed",
    "deceased": "is recorded as deceased",
}


def check_holds(
    attempt: Attempt, debtor: DebtorSnapshot, account: AccountSnapshot, policy: Policy
) -> list[tuple[str, str]]:
    """Every (rule_id, reason) that blocks `attempt`; [] when nothing blocks it."""
    fired: list[tuple[str, str]] = []
    blocking = frozenset(policy.blocking_holds)
    for owner, holds in (("consumer", debtor.holds), ("account", account.holds)):
        for kind in sorted(holds & blocking):
            if kind == "cease" and attempt.kind in CEASE_ALLOWS:
                continue
            why = _WHY.get(kind, f"has a {kind!r} hold")
            subject = (
                "The consumer" if owner == "consumer" else f"On account {account.id}, the consumer"
            )
            fired.append((rules.HOLD_RULES.get(kind, kind), f"{subject} {why}."))
    if attempt.kind not in OPT_OUT_ALLOWS:
        fired.extend((rules.OPT_OUT, reason) for reason in _opt_outs(attempt, debtor))
    return fired


def _opt_outs(attempt: Attempt, debtor: DebtorSnapshot) -> list[str]:
    reasons: list[str] = []
    if f"opt_out:{attempt.channel}" in debtor.holds:
        reasons.append(f"The consumer asked us to stop contacting them by {attempt.channel}.")
    if attempt.to:
        address = attempt.to.strip()
        if attempt.channel == "email":
            address = address.lower()
        if address in debtor.opted_out:
            reasons.append(f"The consumer opted out of messages to {address}.")
    return reasons
