"""The policy schema: the numbers the law leaves open, set by operations in config/policy.yaml.

Every field has a documented default; `config/policy.yaml` repeats them with their sources.
The engine reads derived views (`rules_for`) that are computed once per policy and cached.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from functools import cache, cached_property
from typing import Any, Literal, Self

import us
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from outreach.compliance import rules
from outreach.vocabulary import RESPONSE_KINDS, ContactChannel, MessageKind

# A pseudo-state: New York City's DCWP rules, detected from the ZIP (compliance.places).
CITY_PLACES: frozenset[str] = frozenset({"NYC"})

# Words that threaten suit (F18); matched case-insensitively on word boundaries.
DEFAULT_SUIT_PATTERNS: tuple[str, ...] = (
    r"\bsu(?:e|ed|es|ing)\b",
    r"\blaw\s*suits?\b",
    r"\blegal\s+(?:action|proceedings?|steps)\b",
    r"\blitigation\b",
    r"\b(?:take|taking|took|see)\s+(?:you\s+)?(?:to|in)\s+court\b",
    r"\bgarnish\w*",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy without the values derived and cached from the original's fields."""
        copied = super().model_copy(update=update, deep=deep)
        for name in _cached_names(type(self)):
            copied.__dict__.pop(name, None)
        return copied


@cache
def _cached_names(cls: type) -> tuple[str, ...]:
    return tuple(
        name
        for klass in cls.__mro__
        for name, value in vars(klass).items()
        if isinstance(value, cached_property)
    )


class Window(_Strict):
    """Allowed local time of day, [start, end). F1 default: 08:00 to 21:00."""

    start: time = time(8, 0)
    end: time = time(21, 0)

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.start >= self.end:
            raise ValueError(f"start {self.start:%H:%M} must be before end {self.end:%H:%M}")
        return self


class ContactWindow(_Strict):
    default: Window = Window()
    # Per-channel override; null means the channel has no time-of-day restriction
    # (a letter is mailed, not received at a time of day).
    channels: dict[ContactChannel, Window | None] = Field(default_factory=dict)

    def for_channel(self, channel: str) -> Window | None:
        key = ContactChannel(channel)
        return self.channels.get(key, self.default)


class FrequencyCap(_Strict):
    """At most `max` sent-or-unknown contacts on `channels` in any rolling `days` days."""

    id: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    channels: list[ContactChannel] = Field(
        default_factory=list, description="empty = every channel"
    )
    max: int = Field(ge=1)
    days: int = Field(ge=1, le=366)
    per: Literal["debtor", "account"] = "debtor"

    def applies_to(self, channel: str) -> bool:
        return not self.channels or channel in self.channels


class CallRules(_Strict):
    """F8 (12 CFR 1006.14(b)(2)), per account, in the consumer's local calendar days."""

    max_attempts: int = Field(default=7, ge=1)  # calls placed (attempts and conversations)...
    days: int = Field(default=7, ge=1, le=31)  # ...in this many consecutive days
    # No call for this many days after a conversation; the conversation's day is day 1.
    quiet_days_after_conversation: int = Field(default=7, ge=0, le=31)


class ContentRules(_Strict):
    """Checks on the rendered message (F11, F14, F18, SMS encoding)."""

    sms_max_segments: int = Field(default=3, ge=1, le=10)
    # Replace typographic quotes, dashes and ellipses by GSM-7 ones when they are the only
    # characters that would turn the SMS into UCS-2.
    normalize_sms_punctuation: bool = True
    # Then spell accented letters outside GSM-7 without the accent (María -> Maria) when that
    # makes the SMS GSM-7, instead of sending (or blocking) a UCS-2 message 2-3 times longer.
    fold_sms_accents: bool = True
    suit_patterns: list[str] = Field(default_factory=lambda: list(DEFAULT_SUIT_PATTERNS))

    @field_validator("suit_patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression {pattern!r}: {exc}") from exc
        return patterns

    @cached_property
    def suit_regex(self) -> re.Pattern[str] | None:
        if not self.suit_patterns:
            return None
        return re.compile("|".join(f"(?:{p})" for p in self.suit_patterns), re.IGNORECASE)


class StateRule(_Strict):
    """Overrides for debtors in one state (or "NYC"); each adds to the federal rules."""

    # Narrows the contact window of every channel that has one (never widens it).
    window: Window | None = None
    # Extra caps, reported under the state's id (e.g. "MA"). Empty channels = all, calls too.
    frequency_caps: list[FrequencyCap] = Field(default_factory=list)
    # Channels that need the consumer's consent to the address (contact point consent).
    consent_required: list[ContactChannel] = Field(default_factory=list)
    # A license number every message to these debtors must show (CA Civ. Code 1788.11).
    license_number: str | None = Field(default=None, min_length=1)


@dataclass(frozen=True, slots=True, eq=False)  # identity hash: built once per policy
class ChannelRules:
    """What applies to one channel in one set of places: the engine's per-attempt view."""

    window: Window | None  # the federal window, or None (no time-of-day rule)
    narrowed: Window | None  # the window after state overrides (None: same as `window`)
    narrowed_by: tuple[str, ...]  # places whose window narrowed it
    caps: tuple[tuple[str, tuple[FrequencyCap, ...]], ...]  # (rule id, caps) that apply


class Policy(_Strict):
    contact_window: ContactWindow = ContactWindow()
    frequency_caps: list[FrequencyCap] = Field(default_factory=list)
    # Holds that block every message for the debtor or account (rule ids in compliance.rules).
    blocking_holds: list[str] = Field(
        default_factory=lambda: ["cease", "attorney", "bankruptcy", "deceased", "dispute"]
    )
    calls: CallRules = CallRules()
    # No contact on US federal holidays (the consumer's local date) on windowed channels.
    holidays: bool = False
    # F17 holds collection after a dispute in the validation period; "allow" lets a dispute
    # received after the period end stop holding collection messages.
    dispute_outside_validation_period: Literal["hold", "allow"] = "hold"
    # Message kinds an open promise to pay pauses until the day after it falls due.
    promise_pauses: list[MessageKind] = Field(default_factory=lambda: [MessageKind.COLLECTION])
    # Kinds that count as contacts but are never held back by caps: notices the law requires
    # or allows whatever the frequency.
    cap_exempt_kinds: list[MessageKind] = Field(
        default_factory=lambda: [
            MessageKind.VALIDATION_NOTICE,
            MessageKind.CEASE_ACK,
            MessageKind.REMEDY,
        ]
    )
    # Answers to the consumer's own message: not counted, not capped, not windowed.
    responses: list[MessageKind] = Field(default_factory=lambda: list(RESPONSE_KINDS))
    content: ContentRules = ContentRules()
    # Keyed by state code (MA, WA, CA, FL, ...) or "NYC".
    states: dict[str, StateRule] = Field(default_factory=dict)

    @field_validator("states")
    @classmethod
    def _known_places(cls, states: dict[str, StateRule]) -> dict[str, StateRule]:
        for key in states:
            found = us.states.lookup(key) if len(key) == 2 else None
            if key not in CITY_PLACES and (found is None or found.abbr != key):
                raise ValueError(
                    f"{key!r} is not a two-letter US state code (upper case) or one of "
                    f"{', '.join(sorted(CITY_PLACES))}"
                )
        return states

    @model_validator(mode="after")
    def _unique_cap_ids(self) -> Policy:
        seen: set[str] = set()
        caps = [*self.frequency_caps, *(c for s in self.states.values() for c in s.frequency_caps)]
        for cap in caps:
            if cap.id in seen:
                raise ValueError(f"frequency cap id {cap.id!r} is used twice")
            seen.add(cap.id)
        return self

    @property
    def longest_cap_days(self) -> int:
        """How much history the rules need: the dispatcher preloads this many days."""
        caps = [*self.frequency_caps, *(c for s in self.states.values() for c in s.frequency_caps)]
        # F8 reads local calendar days: one more day covers any time-zone offset.
        calls = max(self.calls.days, self.calls.quiet_days_after_conversation) + 1
        return max([cap.days for cap in caps] + [calls])

    @cached_property
    def _license_places(self) -> tuple[tuple[str, str], ...]:
        return tuple((k, s.license_number) for k, s in self.states.items() if s.license_number)

    def licenses_for(self, places: frozenset[str]) -> tuple[tuple[str, str], ...]:
        """(place, license number) pairs a message to a debtor in `places` must show."""
        return tuple(item for item in self._license_places if item[0] in places)

    @cached_property
    def blocking_hold_set(self) -> frozenset[str]:
        return frozenset(self.blocking_holds)

    @cached_property
    def _consent_by_channel(self) -> dict[str, frozenset[str]]:
        return {
            channel: frozenset(k for k, s in self.states.items() if channel in s.consent_required)
            for channel in ContactChannel
        }

    def consent_places(self, channel: str, places: frozenset[str]) -> tuple[str, ...]:
        """Places among `places` whose rules need consent for `channel`."""
        needed = self._consent_by_channel.get(channel)
        return tuple(sorted(places & needed)) if needed and places else ()

    def rules_for(self, channel: str, places: frozenset[str]) -> ChannelRules:
        """Window and caps for `channel` in `places` (computed once per pair, then cached)."""
        key = (channel, places)
        cached = self._rules_cache.get(key)
        if cached is None:
            cached = self._rules_cache[key] = self._build_rules(channel, places)
        return cached

    @cached_property
    def _rules_cache(self) -> dict[tuple[str, frozenset[str]], ChannelRules]:
        return {}

    def _build_rules(self, channel: str, places: frozenset[str]) -> ChannelRules:
        window = self.contact_window.for_channel(channel)
        start, end = (window.start, window.end) if window else (time.min, time.max)
        narrowed_by: list[str] = []
        caps: list[tuple[str, tuple[FrequencyCap, ...]]] = []
        federal = tuple(c for c in self.frequency_caps if c.applies_to(channel))
        if federal:
            caps.append((rules.FREQUENCY_CAP, federal))
        for place in sorted(places & self.states.keys()):
            rule = self.states[place]
            narrower = rule.window is not None and (
                rule.window.start > start or rule.window.end < end
            )
            if window is not None and rule.window is not None and narrower:
                narrowed_by.append(place)
                start, end = max(start, rule.window.start), min(end, rule.window.end)
            state_caps = tuple(c for c in rule.frequency_caps if c.applies_to(channel))
            if state_caps:
                caps.append((place, state_caps))
        narrowed = None
        if narrowed_by:
            if start >= end:
                raise ValueError(
                    f"the windows of {', '.join(narrowed_by)} leave no time of day for {channel}"
                )
            narrowed = Window(start=start, end=end)
        return ChannelRules(window, narrowed, tuple(narrowed_by), tuple(caps))
