"""Frequency caps (F10 and the state caps the policy encodes): rolling counts over history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from outreach.compliance.policy import FrequencyCap
from outreach.compliance.types import Contact


def cap_decision(
    now: datetime,
    channel: str,
    account_id: int | None,
    history: Sequence[Contact],
    caps: Sequence[FrequencyCap],
) -> tuple[datetime | None, list[str]]:
    """When every cap that applies to `channel` has room again; None if none is full.

    A cap counts contacts with `at > now - days` (future-dated ones too, to be safe); a cap
    with per="account" counts only contacts whose account_id equals `account_id`. A full cap
    (count >= max) frees when the (count - max + 1)-th oldest counted contact ages out, at
    its `at + days`. Naive `at` values are read as UTC. Returns the latest release over all
    full caps and one reason per full cap.
    """
    release: datetime | None = None
    reasons: list[str] = []
    timed: list[tuple[datetime, Contact]] | None = None
    for cap in caps:
        if len(history) < cap.max or not cap.applies_to(channel):
            continue
        if timed is None:
            timed = [(_aware(c.at), c) for c in history]
        span = timedelta(days=cap.days)
        since = now - span
        # Count first (the common case is room to spare); sort only a full cap's contacts.
        counted = [at for at, c in timed if at > since and _counts(cap, c, account_id)]
        if len(counted) < cap.max:
            continue
        counted.sort()
        frees = counted[len(counted) - cap.max] + span
        release = frees if release is None else max(release, frees)
        reasons.append(
            f"Frequency cap {cap.id!r} reached: {len(counted)} {_scope(cap, account_id)} in "
            f"the last {cap.days} days (at most {cap.max}); room again "
            f"{frees.astimezone(UTC):%Y-%m-%d %H:%M} UTC."
        )
    return release, reasons


def _counts(cap: FrequencyCap, contact: Contact, account_id: int | None) -> bool:
    if cap.channels and contact.channel not in cap.channels:
        return False
    return cap.per == "debtor" or contact.account_id == account_id


def _scope(cap: FrequencyCap, account_id: int | None) -> str:
    what = f"{'/'.join(cap.channels)} contacts" if cap.channels else "contacts on any channel"
    if cap.per == "account":
        what += f" on account {account_id}" if account_id is not None else " without an account"
    return what


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
