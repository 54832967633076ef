"""`campaigns/*.yaml`: contact plans (segment, steps, stop conditions) and their loader."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from outreach.config.files import ConfigError, Model, load_yaml_model
from outreach.vocabulary import STEP_KINDS, Channel, MessageKind

OnlyIf = Literal["email_on_file", "phone_on_file", "address_on_file"]


SkipIf = Literal["paid", "disputed"]


StopWhen = Literal["paid", "dispute", "cease", "attorney", "bankruptcy", "deceased"]


DEFAULT_STOP_WHEN: tuple[StopWhen, ...] = (
    "paid",
    "dispute",
    "cease",
    "attorney",
    "bankruptcy",
    "deceased",
)


class Segment(Model):
    """Which accounts a campaign enrolls. Every set field must match."""

    min_balance: float | None = Field(default=None, ge=0)
    max_balance: float | None = Field(default=None, ge=0)
    min_days_past_due: int | None = Field(default=None, ge=0)
    max_days_past_due: int | None = Field(default=None, ge=0)
    states: list[str] = Field(default_factory=list, description="empty = every state")
    tags_any: list[str] = Field(default_factory=list)
    tags_none: list[str] = Field(default_factory=list)
    include_time_barred: bool = True


class Step(Model):
    id: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    day: int = Field(ge=0, le=3650, description="days after enrollment")
    channel: Channel
    template: str = Field(min_length=1)
    kind: MessageKind = MessageKind.COLLECTION
    only_if: list[OnlyIf] = Field(default_factory=list)
    skip_if: list[SkipIf] = Field(default_factory=list)

    @field_validator("kind")
    @classmethod
    def _kind_of_a_step(cls, kind: MessageKind) -> MessageKind:
        if kind not in STEP_KINDS:
            raise ValueError(f"a step's kind is one of {', '.join(STEP_KINDS)}, not '{kind}'")
        return kind

    @model_validator(mode="after")
    def _template_matches_channel(self) -> Step:
        if not self.template.startswith(f"{self.channel}/"):
            raise ValueError(
                f"template {self.template!r} must live under {self.channel}/"
                f" for a {self.channel} step"
            )
        return self


class Campaign(Model):
    name: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    description: str = ""
    priority: int = 100  # lower wins when several campaigns match an account
    auto_enroll: bool = True
    segment: Segment = Segment()
    stop_when: list[StopWhen] = Field(default_factory=lambda: list(DEFAULT_STOP_WHEN))
    steps: list[Step] = Field(min_length=1)

    @field_validator("steps")
    @classmethod
    def _steps_ordered_and_unique(cls, steps: list[Step]) -> list[Step]:
        ids = [s.id for s in steps]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"step ids must be unique; repeated: {', '.join(dupes)}")
        days = [s.day for s in steps]
        if days != sorted(days):
            raise ValueError("steps must be listed in order of their day")
        return steps


def load_campaigns(directory: Path) -> dict[str, Campaign]:
    campaigns: dict[str, Campaign] = {}
    errors: list[str] = []
    for path in sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml")):
        try:
            campaign = load_yaml_model(path, Campaign)
        except ConfigError as exc:
            errors.append(str(exc))
            continue
        if campaign.name in campaigns:
            errors.append(f"{path}: name: campaign {campaign.name!r} is defined twice")
            continue
        campaigns[campaign.name] = campaign
    if errors:
        raise ConfigError("\n".join(errors))
    return campaigns
