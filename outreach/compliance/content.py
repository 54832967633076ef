"""Checks on a rendered message before it is sent: disclosures, suit wording, SMS size.

Pure: the dispatcher calls `check_content` after rendering and blocks the message on any
finding; `outreach compliance explain` runs it on the scenario's `content`. Findings carry
rule ids like decisions do: F14 (mini-Miranda), F11 (opt-out notice), a state id for a
missing license number ("CA"), F18 (suit wording on a time-barred account), "sms-segments".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from outreach.compliance import rules, sms
from outreach.compliance.policy import Policy
from outreach.compliance.types import Contact

# F14, tolerant of line wrapping and case. The first communication needs the full sentence.
_FIRST_MIRANDA = (
    re.compile(r"attempt\s+to\s+collect\s+a\s+debt", re.IGNORECASE),
    re.compile(r"information\s+obtained\s+will\s+be\s+used\s+for\s+that\s+purpose", re.I),
)
_LATER_MIRANDA = re.compile(r"from\s+a\s+debt\s+collector|attempt\s+to\s+collect\s+a\s+debt", re.I)
# F11: "Reply STOP", "text STOP to ...", with or without quotes.
_SMS_OPT_OUT = re.compile(r"\b(?:reply|text|send)\s+[\"']?stop\b", re.IGNORECASE)
_EMAIL_OPT_OUT = re.compile(r"unsubscribe|opt[\s-]?out", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ContentCheck:
    text: str  # what to send: for SMS, with typographic punctuation normalized if that helps
    findings: tuple[tuple[str, str], ...]  # (rule id, reason); any finding blocks
    segments: int | None = None  # SMS only
    encoding: sms.Encoding | None = None  # SMS only

    @property
    def ok(self) -> bool:
        return not self.findings


def check_content(
    channel: str,
    text: str,
    *,
    policy: Policy,
    places: frozenset[str] = frozenset(),
    time_barred: bool = False,
    first_contact: bool = False,
    html: str | None = None,
    unsubscribe_url: str | None = None,
) -> ContentCheck:
    """Every problem with the message `text` (and its `html` part) for `channel`."""
    rules_ = policy.content
    segments: int | None = None
    encoding: sms.Encoding | None = None
    if channel == "sms":
        if rules_.normalize_sms_punctuation:
            text = sms.normalize(text)
        if rules_.fold_sms_accents:
            text = sms.fold_accents(text)
        encoding, segments = sms.encoding(text), sms.sms_segments(text)
    visible = f"{text}\n{Markup(html).striptags()}" if html else text
    findings: list[tuple[str, str]] = []

    if first_contact and not all(p.search(visible) for p in _FIRST_MIRANDA):
        findings.append(
            (
                rules.MINI_MIRANDA,
                "A first communication must say it is an attempt to collect a debt and that "
                "any information obtained will be used for that purpose.",
            )
        )
    elif not first_contact and not _LATER_MIRANDA.search(visible):
        findings.append(
            (rules.MINI_MIRANDA, "The message does not say that it is from a debt collector.")
        )
    if channel == "sms" and not _SMS_OPT_OUT.search(visible):
        findings.append(
            (rules.OPT_OUT_NOTICE, 'The SMS does not say how to opt out (e.g. "Reply STOP").')
        )
    if channel == "email":
        if not _EMAIL_OPT_OUT.search(visible):
            findings.append((rules.OPT_OUT_NOTICE, "The email has no visible way to unsubscribe."))
        elif unsubscribe_url and unsubscribe_url not in visible:
            findings.append((rules.OPT_OUT_NOTICE, "The email does not show its unsubscribe link."))
    for place, number in policy.licenses_for(places):
        if number not in visible:
            findings.append(
                (place, f"Messages to {place} debtors must show license number {number}.")
            )
    suit = rules_.suit_regex
    if time_barred and suit is not None and (found := suit.search(visible)):
        findings.append(
            (
                rules.TIME_BARRED,
                f"The account is time-barred and the message mentions {found.group(0)!r}: "
                "never threaten suit on a time-barred debt.",
            )
        )
    if segments is not None and segments > rules_.sms_max_segments:
        findings.append(
            (
                rules.SMS_SEGMENTS,
                f"The SMS takes {segments} {encoding} segments; the policy allows "
                f"{rules_.sms_max_segments}.",
            )
        )
    return ContentCheck(text, tuple(findings), segments, encoding)


def is_first_communication(history: Sequence[Contact]) -> bool:
    """No earlier communication in the history: a call attempt that reached nobody is none."""
    return not any(c.channel != "call" or c.kind == "conversation" for c in history)
