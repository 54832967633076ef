"""When may we next contact a debtor, per channel, and which rule says so: the compliance
engine's own answer, for the debtor page.

`snapshot.load_debtor` builds exactly the snapshots the dispatcher builds (calls, promises,
consent and all), so the answer here can never drift from what a send would meet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from outreach.compliance import Attempt, Policy, Verdict, candidate_zones, evaluate
from outreach.db.models import Account, ContactPoint
from outreach.pipeline.snapshot import load_debtor

CHANNELS = ("sms", "email", "letter", "call")
CONTACT_KIND = {"sms": "phone", "call": "phone", "email": "email", "letter": "address"}


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
    for a collection message now; for each channel the best of the debtor's addresses."""
    batch = load_debtor(
        session, debtor_id, now, policy.longest_cap_days, exclude_kinds=policy.responses
    )
    accounts = sorted(
        (a for a in batch.accounts.values() if a.status == "open"), key=lambda a: a.id
    )
    targets: list[Account | None] = list(accounts) or [None]
    debtor = batch.debtor_snapshot(debtor_id)
    zones = candidate_zones(debtor)
    history = batch.history.get(debtor_id, [])
    points = batch.contact_points.get(debtor_id, [])
    out = []
    for account in targets:
        account_snap = batch.account_snapshot(account.id if account else None, debtor_id)
        for channel in CHANNELS:
            candidates = [
                p for p in points if p.kind == CONTACT_KIND[channel] and p.undeliverable_at is None
            ]
            answers = [
                (
                    p,
                    evaluate(
                        Attempt(channel=channel, to=_to(p)),
                        debtor,
                        account_snap,
                        history,
                        policy,
                        now,
                        zones=zones,
                    ),
                )
                for p in candidates
            ]
            out.append(_best(channel, account, answers, now))
    return out


def _to(point: ContactPoint) -> str | None:
    return None if point.kind == "address" else point.value


def _best(
    channel: str, account: Account | None, answers: list[tuple[ContactPoint, Any]], now: datetime
) -> NextContact:
    account_id = account.id if account else None
    account_ext = account.external_id if account else None
    if not answers:
        return NextContact(
            channel,
            account_id,
            account_ext,
            "none",
            None,
            None,
            (),
            (f"No usable {CONTACT_KIND[channel]} on file.",),
        )

    def when(decision: Any) -> datetime:
        if decision.verdict is Verdict.ALLOW:
            return now
        return (
            decision.not_before
            if decision.verdict is Verdict.DEFER
            else datetime.max.replace(tzinfo=now.tzinfo)
        )

    point, decision = min(answers, key=lambda a: when(a[1]))
    return NextContact(
        channel=channel,
        account_id=account_id,
        account=account_ext,
        verdict=decision.verdict.value,
        at=None if decision.verdict is Verdict.BLOCK else when(decision),
        to=point.value,
        rules=tuple(decision.rules),
        reasons=tuple(decision.reasons),
    )
