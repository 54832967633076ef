"""The policy schema: the numbers the law leaves open, set by operations in config/policy.yaml."""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ChannelName = Literal["sms", "email", "letter", "call"]
CHANNELS: tuple[ChannelName, ...] = ("sms", "email", "letter", "call")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
    channels: dict[ChannelName, Window | None] = Field(default_factory=dict)

    def for_channel(self, channel: str) -> Window | None:
        if channel in self.channels:
            return self.channels[channel]
        return self.default


class FrequencyCap(_Strict):
    """At most `max` sent-or-unknown contacts on `channels` in any rolling `days` days."""

    id: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    channels: list[ChannelName] = Field(default_factory=list, description="empty = every channel")
    max: int = Field(ge=1)
    days: int = Field(ge=1, le=366)
    per: Literal["debtor", "account"] = "debtor"

    def applies_to(self, channel: str) -> bool:
        return not self.channels or channel in self.channels


class Policy(_Strict):
    contact_window: ContactWindow = ContactWindow()
    frequency_caps: list[FrequencyCap] = Field(default_factory=list)
    # Holds that block every message for the debtor or account (rule ids in compliance.rules).
    blocking_holds: list[str] = Field(
        default_factory=lambda: ["cease", "attorney", "bankruptcy", "deceased", "dispute"]
    )

    @model_validator(mode="after")
    def _unique_cap_ids(self) -> Policy:
        seen: set[str] = set()
        for cap in self.frequency_caps:
            if cap.id in seen:
                raise ValueError(f"frequency cap id {cap.id!r} is used twice")
            seen.add(cap.id)
        return self

    @property
    def longest_cap_days(self) -> int:
        """How much history the caps need: the dispatcher preloads this many days."""
        return max((cap.days for cap in self.frequency_caps), default=0)
