"""When may we next contact a debtor, per channel, and which rule says so: the compliance
engine's own answer, for the debtor page.

`snapshot.load_debtor` builds exactly the snapshots the dispatcher builds (calls, promises,
consent and all), and `pipeline.contacts.choose_contact` picks the address the dispatcher
would send to, so the answer here can never drift from what a send would meet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from outreach.compliance import Attempt, Decision, Policy, Verdict, evaluate
from outreach.compliance.engine import contacted_phone
from outreach.db.rows import AccountRow
from outreach.pipeline.contacts import CONTACT_KIND, choose_contact
from outreach.pipeline.snapshot import load_debtor
from outreach.vocabulary import ContactChannel


@dataclass(frozen=True)
class NextContact:
    channel: str
    account_id: int | None
    account: str | None  # external id
    verdict: str  # allow | defer | block | none (nothing usable on file)
    at: datetime | None  # the earliest allowed instant (now for allow); None if blocked
    to: str | None  # the contact point the answer is for
    rules: tuple[str, ...]
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "account": self.account,
            "verdict": self.verdict,
            "at": self.at.isoformat() if self.at else None,
            "to": self.to,
            "rules": list(self.rules),
            "reasons": list(self.reasons),
        }


def next_contacts(
    session: Session, debtor_id: int, policy: Policy, now: datetime
) -> list[NextContact]:
    """Per open account (or for the debtor alone if none) and channel, the engine's answer
    for a collection message now, for the address the dispatcher would choose."""
    batch = load_debtor(
        session, debtor_id, now, policy.longest_cap_days, exclude_kinds=policy.responses
    )
    accounts = sorted(
        (a for a in batch.accounts.values() if a.status == "open"), key=lambda a: a.id
    )
    targets: list[AccountRow | None] = list(accounts) or [None]
    debtor = batch.debtor_snapshot(debtor_id)
    history = batch.history.get(debtor_id, [])
    points = batch.contact_points.get(debtor_id, [])
    out = []
    for account in targets:
        account_snap = batch.account_snapshot(account.id if account else None, debtor_id)
        for channel in ContactChannel:
            point = choose_contact(points, channel, debtor.opted_out)
            if point is None:
                out.append(_none(channel, account))
                continue
            to = None if point.kind == "address" else point.value
            attempt = Attempt(channel=channel, to=to)
            decision = evaluate(
                attempt,
                debtor,
                account_snap,
                history,
                policy,
                now,
                zones=batch.zones(debtor_id, contacted_phone(attempt)),
            )
            out.append(_answer(channel, account, point.value, decision, now))
    return out


def _none(channel: str, account: AccountRow | None) -> NextContact:
    return NextContact(
        channel,
        account.id if account else None,
        account.external_id if account else None,
        "none",
        None,
        None,
        (),
        (f"No usable {CONTACT_KIND[channel]} on file.",),
    )


def _answer(
    channel: str, account: AccountRow | None, to: str, decision: Decision, now: datetime
) -> NextContact:
    at = {Verdict.ALLOW: now, Verdict.DEFER: decision.not_before}.get(decision.verdict)
    return NextContact(
        channel=channel,
        account_id=account.id if account else None,
        account=account.external_id if account else None,
        verdict=decision.verdict.value,
        at=at,
        to=to,
        rules=tuple(decision.rules),
        reasons=tuple(decision.reasons),
    )
