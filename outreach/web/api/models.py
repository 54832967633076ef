"""The JSON API's response models: what each call returns, as its OpenAPI schema shows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from outreach.services.contract import Outcome


class Problem(BaseModel):
    detail: str  # what was refused and why, or what does not exist


# Every route may answer these (and 422, FastAPI's own, naming each invalid field).
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "Refused: `detail` says why"},
    401: {"model": Problem, "description": "No valid API token"},
    403: {"model": Problem, "description": "The token's user does not have the role"},
    404: {"model": Problem, "description": "No such object"},
}


class Me(BaseModel):
    name: str
    role: str


class LogRow(BaseModel):
    id: int
    created_at: datetime
    due_at: datetime
    sent_at: datetime | None
    debtor_id: int
    debtor: str
    account: str | None
    campaign: str | None
    step: str | None
    channel: str
    template: str
    to: str
    state: str
    verdict: str | None
    rules: list[str]
    reasons: list[str]
    error: str | None


class LogPageOut(BaseModel):
    items: list[LogRow]
    next_before: int | None  # pass as ?before= for the next page


class EventOut(BaseModel):
    at: datetime
    from_state: str | None
    to_state: str
    cause: str
    detail: dict[str, Any] | None


class MessageOut(BaseModel):
    id: int
    debtor_id: int
    account_id: int | None
    campaign: str | None
    step: str | None
    channel: str
    kind: str
    template: str
    to: str  # masked
    state: str
    due_at: datetime
    sent_at: datetime | None
    decision: dict[str, Any] | None
    error: str | None
    events: list[EventOut]


class ContactPointOut(BaseModel):
    id: int
    kind: str
    value: str
    label: str | None
    consent: str
    opted_out_at: datetime | None
    undeliverable_at: datetime | None


class HoldOut(BaseModel):
    id: int
    kind: str
    account_id: int | None
    reason: str
    source: str
    created_at: datetime


class AccountOut(BaseModel):
    id: int
    external_id: str
    creditor: str
    account_number: str
    balance: Decimal
    status: str
    state: str | None
    holds: list[HoldOut]
    campaigns: list[str]


class NextContactOut(BaseModel):
    channel: str
    account: str | None
    verdict: str
    at: datetime | None
    to: str | None
    rules: list[str]
    reasons: list[str]


class TimelineEntryOut(BaseModel):
    at: datetime
    kind: str
    title: str
    actor: str | None
    state: str | None
    channel: str | None
    body: str | None
    rules: list[str]
    reasons: list[str]
    events: list[dict[str, Any]]
    ref: str | None


class DebtorOut(BaseModel):
    id: int
    external_id: str
    name: str
    stated_timezone: str | None
    inconvenient_times: list[dict[str, Any]]
    contact_points: list[ContactPointOut]
    accounts: list[AccountOut]
    holds: list[HoldOut]
    open_tasks: list[int]
    next_contact: list[NextContactOut]
    timeline: list[TimelineEntryOut]


class Done(BaseModel):
    ok: bool = True
    id: int | None = None
    changed: bool = True

    @classmethod
    def of(cls, outcome: Outcome) -> Done:
        return cls(id=outcome.id, changed=outcome.changed)


class InboxReplyOut(BaseModel):
    id: int
    received_at: datetime
    channel: str
    from_address: str
    body: str
    intent: str | None
    action: str | None
    debtor_id: int | None
    debtor_name: str | None
    tasks: list[int]


class InboxTaskOut(BaseModel):
    id: int
    created_at: datetime
    kind: str
    summary: str
    debtor_id: int | None
    debtor_name: str | None


class InboxOut(BaseModel):
    replies: list[InboxReplyOut]
    tasks: list[InboxTaskOut]


class BlockReason(BaseModel):
    rule: str
    title: str
    count: int


class CampaignOut(BaseModel):
    name: str
    status: str
    days: list[date]
    series: dict[str, dict[str, list[int]]]  # channel -> outcome -> count per day
    totals: dict[str, int]
    top_blocks: list[BlockReason]


class UserOut(BaseModel):
    id: int
    name: str
    role: str
    created_at: datetime
    disabled_at: datetime | None
    last_login_at: datetime | None


class TokenOut(BaseModel):
    token: str  # shown once; only its hash is stored


class UnknownSendOut(BaseModel):
    id: int
    debtor_id: int
    debtor: str
    channel: str
    to: str  # masked
    campaign: str | None
    step: str | None
    since: datetime  # when it became unknown
    sent_at: datetime | None
    attempts: int
    provider_id: str | None
    error: str | None


class BreakerEventOut(BaseModel):
    at: datetime
    action: str  # breaker_open | breaker_half_open | breaker_closed
    actor: str


class ProviderOut(BaseModel):
    key: str
    channel: str
    state: str  # closed | half_open | open
    paused: bool  # takes no message now
    consecutive_failures: int
    opened_at: datetime | None
    retry_at: datetime | None  # when the next trial may start
    open_seconds: float
    trial_owner: str | None
    last_error: str | None  # masked
    updated_at: datetime
    events: list[BreakerEventOut]  # newest first


class WorkerOut(BaseModel):
    id: str
    host: str
    pid: int
    channels: list[str]
    state: str  # running | draining | stopped | lost
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None
    heartbeat_age_seconds: float


class ProvidersOut(BaseModel):
    providers: list[ProviderOut]
    workers: list[WorkerOut]  # alive first
