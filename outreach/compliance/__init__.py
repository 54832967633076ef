"""The compliance layer: pure rules over frozen snapshots, returning a Decision.

Nothing here does I/O; the dispatcher loads snapshots and history in batches and calls
`evaluate` per attempt.
"""

from __future__ import annotations

from outreach.compliance.caps import cap_decision
from outreach.compliance.content import ContentCheck, check_content
from outreach.compliance.engine import evaluate
from outreach.compliance.holds import check_holds
from outreach.compliance.places import places
from outreach.compliance.policy import ContactWindow, FrequencyCap, Policy, Window
from outreach.compliance.timezones import candidate_zones
from outreach.compliance.types import (
    AccountSnapshot,
    Attempt,
    Contact,
    DebtorSnapshot,
    Decision,
    EmailAddress,
    InconvenientTime,
    Verdict,
)
from outreach.compliance.validation import business_days_after, validation_period_end
from outreach.compliance.window import earliest_allowed, is_inside

__all__ = [
    "AccountSnapshot",
    "Attempt",
    "Contact",
    "ContactWindow",
    "ContentCheck",
    "DebtorSnapshot",
    "Decision",
    "EmailAddress",
    "FrequencyCap",
    "InconvenientTime",
    "Policy",
    "Verdict",
    "Window",
    "business_days_after",
    "candidate_zones",
    "cap_decision",
    "check_content",
    "check_holds",
    "earliest_allowed",
    "evaluate",
    "is_inside",
    "places",
    "validation_period_end",
]
