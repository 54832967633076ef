"""Rule ids the compliance layer reports, so decisions, logs and the UI name rules the same way.

Ids starting with "F" follow /work/shared/REFERENCE.md; "bankruptcy" and "deceased" are
policy-level holds with no single federal rule behind them.
"""

from __future__ import annotations

from typing import Final

CONTACT_WINDOW: Final = "F1"
UNCLEAR_LOCATION: Final = "F2"
ATTORNEY: Final = "F5"
CEASE: Final = "F6"
OPT_OUT: Final = "F7"
FREQUENCY_CAP: Final = "F10"
DISPUTE: Final = "F17"
BANKRUPTCY: Final = "bankruptcy"
DECEASED: Final = "deceased"

TITLES: Final[dict[str, str]] = {
    CONTACT_WINDOW: "Contact only between 08:00 and 21:00 at the consumer's location",
    UNCLEAR_LOCATION: "Location unclear: contact only when convenient in every candidate zone",
    ATTORNEY: "Consumer is represented by an attorney: no direct contact",
    CEASE: "Consumer asked to cease communication",
    OPT_OUT: "Consumer opted out of this medium or address",
    FREQUENCY_CAP: "Frequency cap reached",
    DISPUTE: "Debt disputed: no collection until verification is sent",
    BANKRUPTCY: "Consumer is in bankruptcy: no collection",
    DECEASED: "Consumer is deceased: no collection",
}

# Hold kinds (DebtorSnapshot.holds / AccountSnapshot.holds) and the rule each one fires.
HOLD_RULES: Final[dict[str, str]] = {
    "cease": CEASE,
    "attorney": ATTORNEY,
    "dispute": DISPUTE,
    "bankruptcy": BANKRUPTCY,
    "deceased": DECEASED,
}


def title(rule_id: str) -> str:
    """The one-line title of a rule id; unknown ids (custom policy holds) title themselves."""
    return TITLES.get(rule_id, rule_id)
