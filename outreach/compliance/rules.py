"""Rule ids the compliance layer reports, so decisions, logs and the UI name rules the same way.

Ids starting with "F" follow the team's rule reference (`../shared/REFERENCE.md` from the
repository root). Others are policy-level rules with no
single federal section behind them: "bankruptcy", "deceased", "holiday", "promise",
"sms-segments"; and a state override reports the state's own id, as keyed in policy.yaml
("MA", "WA", "CA", "FL", or "NYC" for New York City).
"""

from __future__ import annotations

from typing import Final

CONTACT_WINDOW: Final = "F1"
UNCLEAR_LOCATION: Final = "F2"
STATED_INCONVENIENT: Final = "F3"
ATTORNEY: Final = "F5"
CEASE: Final = "F6"
OPT_OUT: Final = "F7"
CALLS: Final = "F8"
FREQUENCY_CAP: Final = "F10"
OPT_OUT_NOTICE: Final = "F11"
WORK_EMAIL: Final = "F12"
MINI_MIRANDA: Final = "F14"
VALIDATION_PERIOD: Final = "F15"
DISPUTE: Final = "F17"
TIME_BARRED: Final = "F18"
BANKRUPTCY: Final = "bankruptcy"
DECEASED: Final = "deceased"
HOLIDAY: Final = "holiday"
PROMISE: Final = "promise"
SMS_SEGMENTS: Final = "sms-segments"

TITLES: Final[dict[str, str]] = {
    CONTACT_WINDOW: "Contact only between 08:00 and 21:00 at the consumer's location",
    UNCLEAR_LOCATION: "Location unclear: contact only when convenient in every candidate zone",
    STATED_INCONVENIENT: "The consumer said this time is inconvenient",
    ATTORNEY: "Consumer is represented by an attorney: no direct contact",
    CEASE: "Consumer asked to cease communication",
    OPT_OUT: "Consumer opted out of this medium or address",
    CALLS: "Calls: at most 7 in 7 days per debt, none for 7 days after a conversation",
    FREQUENCY_CAP: "Frequency cap reached",
    OPT_OUT_NOTICE: "Electronic messages must say how to opt out",
    WORK_EMAIL: "No email to a work address unless the consumer used it or consented",
    MINI_MIRANDA: "Messages must say they are from a debt collector (mini-Miranda)",
    VALIDATION_PERIOD: "Validation period: 30 days after assumed receipt of the notice",
    DISPUTE: "Debt disputed: no collection until verification is sent",
    TIME_BARRED: "Time-barred debt: never threaten suit",
    BANKRUPTCY: "Consumer is in bankruptcy: no collection",
    DECEASED: "Consumer is deceased: no collection",
    HOLIDAY: "No contact on US federal holidays (policy)",
    PROMISE: "Reminders pause until a promise to pay falls due",
    SMS_SEGMENTS: "SMS longer than the policy's segment limit",
    "MA": "Massachusetts: at most 2 calls or texts per 7 days per debt",
    "WA": "Washington: at most 3 communications per week",
    "NYC": "New York City: at most 3 contacts per 7 days per account; consent for email/text",
    "CA": "California: the collector's license number on every message",
    "FL": "Florida: no communication between 21:00 and 08:00",
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
