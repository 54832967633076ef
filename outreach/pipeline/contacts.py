"""Which of a debtor's contact points a message on a channel goes to.

One rule for the dispatcher (where a message is sent) and the debtor page's "next contact"
(`queries.next_contact`), so the page answers for the address a send would use.
"""

from __future__ import annotations

from collections.abc import Sequence

from outreach.db.rows import PointRow

# The kind of contact point each channel needs ("call" is an agent's phone call).
CONTACT_KIND = {"sms": "phone", "call": "phone", "email": "email", "letter": "address"}


def choose_contact(
    points: Sequence[PointRow], channel: str, opted_out: frozenset[str]
) -> PointRow | None:
    """The best usable contact point for `channel`: not undeliverable, not opted out, then
    the preferred label (a mobile for SMS, a non-work email), then the oldest. An opted-out
    one is chosen when nothing else is on file, so the compliance check blocks it with the
    rule and reason (rather than a silent skip). None when no point of the kind is usable."""
    kind = CONTACT_KIND[channel]
    candidates = [p for p in points if p.kind == kind and p.undeliverable_at is None]
    if not candidates:
        return None

    def rank(p: PointRow) -> tuple[int, int, int]:
        usable = p.value not in opted_out
        preferred = (channel == "sms" and p.label == "mobile") or (
            channel == "email" and p.label != "work"
        )
        return (0 if usable else 1, 0 if preferred else 1, p.id)

    return min(candidates, key=rank)
