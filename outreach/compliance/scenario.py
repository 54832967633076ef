"""The public JSON interface of `outreach compliance explain`: one scenario in, one decision out.

The input schema is documented in the README and kept stable; fields may be added, never
changed in meaning. Unknown fields are refused (a typo must not silently change the answer).
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from outreach.compliance import rules
from outreach.compliance.engine import evaluate
from outreach.compliance.places import places, state_code
from outreach.compliance.policy import Policy
from outreach.compliance.timezones import candidate_zones, is_zone
from outreach.compliance.types import (
    AccountSnapshot,
    Attempt,
    Contact,
    DebtorSnapshot,
    Decision,
    EmailAddress,
    InconvenientTime,
)
from outreach.vocabulary import WEEKDAYS, CallOutcome, ContactChannel

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
KNOWN_HOLDS: frozenset[str] = frozenset(
    {"cease", "attorney", "bankruptcy", "deceased", "dispute"}
    | {f"opt_out:{channel}" for channel in ContactChannel}
)
_ZIP = re.compile(r"^\d{5}(?:-\d{4})?$")
_HHMM = re.compile(r"^\d{2}:\d{2}$")


class ScenarioError(ValueError):
    """Bad input: `field` is the dotted path of the offending field."""

    def __init__(self, field: str, message: str) -> None:
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}")


def _hhmm(value: str) -> str:
    if not _HHMM.match(value):
        raise ValueError(f"expected HH:MM, got {value!r}")
    time.fromisoformat(value)
    return value


def _state(value: str) -> str:
    if state_code(value) is None:
        raise ValueError(f"not a US state: {value!r}")
    return value


def _zip(value: str) -> str:
    if not _ZIP.match(value):
        raise ValueError(f"expected a 5-digit ZIP (or ZIP+4), got {value!r}")
    return value


def _zone(value: str) -> str:
    if not is_zone(value):
        raise ValueError(f"not an IANA time zone: {value!r}")
    return value


def _hold(value: str) -> str:
    if value not in KNOWN_HOLDS:
        raise ValueError(f"unknown hold {value!r} (known: {', '.join(sorted(KNOWN_HOLDS))})")
    return value


def _email(value: str) -> str:
    if "@" not in value.strip()[1:-1]:
        raise ValueError(f"not an email address: {value!r}")
    return value.strip().lower()


def _phone(value: str) -> str:
    """E.164 for a phone number; ValueError if it is not one."""
    try:
        number = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {value!r}") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError(f"not a phone number: {value!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _address(value: str) -> str:
    """A phone (to E.164) or an email address (lower case)."""
    return _email(value) if "@" in value else _phone(value)


HHMM = Annotated[str, AfterValidator(_hhmm)]
State = Annotated[str, AfterValidator(_state)]
Zip = Annotated[str, AfterValidator(_zip)]
Zone = Annotated[str, AfterValidator(_zone)]
HoldKind = Annotated[str, AfterValidator(_hold)]
Email = Annotated[str, AfterValidator(_email)]
Phone = Annotated[str, AfterValidator(_phone)]
Address = Annotated[str, AfterValidator(_address)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmailIn(_In):
    address: Email
    work: bool = False
    consented: bool = False  # the consumer consented to or used this address (F12)


class InconvenientIn(_In):
    start: HHMM
    end: HHMM
    days: list[Weekday] | None = Field(None, min_length=1)
    channel: ContactChannel | None = None


class DebtorIn(_In):
    state: State | None = None
    zip: Zip | None = None
    timezone: Zone | None = None
    phones: list[Phone] = Field(default_factory=list)
    emails: list[EmailIn] = Field(default_factory=list)
    inconvenient_times: list[InconvenientIn] = Field(default_factory=list)
    holds: list[HoldKind] = Field(default_factory=list)
    opted_out: list[Address] = Field(default_factory=list)  # single addresses opted out (F7)
    consented: list[Address] = Field(default_factory=list)  # addresses with consent (NYC)


class AccountIn(_In):
    id: int = 1
    state: State | None = None
    time_barred: bool = False
    validation_notice_sent_at: AwareDatetime | None = None
    disputed_at: AwareDatetime | None = None  # set: the dispute is open (no verification yet)
    promise_due_on: date | None = None  # an open promise to pay
    holds: list[HoldKind] = Field(default_factory=list)


class HistoryIn(_In):
    channel: ContactChannel
    at: AwareDatetime
    kind: CallOutcome = CallOutcome.ATTEMPT
    account_id: int | None = None  # default: the scenario's account


class Scenario(_In):
    now: AwareDatetime
    channel: ContactChannel
    to: str | None = None
    debtor: DebtorIn = DebtorIn()
    account: AccountIn = AccountIn()
    history: list[HistoryIn] = Field(default_factory=list)
    content: str | None = None
    kind: str = Field("collection", min_length=1)
    threatens_suit: bool = False  # the template declares it (F18)
    first_contact: bool | None = None  # for the F14 content check; default from history


def parse(data: Any) -> Scenario:
    """Validate `data`; raises ScenarioError naming the first bad field."""
    if not isinstance(data, dict):
        raise ScenarioError("input", "expected a JSON object")
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ScenarioError(_path(first["loc"]), _message(first)) from None
    if scenario.channel != "letter" and not (scenario.to or "").strip():
        raise ScenarioError("to", f"required for channel {scenario.channel}")
    if scenario.to and scenario.channel in ("sms", "call"):
        _checked("to", scenario.to)
    if scenario.to and scenario.channel == "email" and "@" not in scenario.to:
        raise ScenarioError("to", f"not an email address: {scenario.to!r}")
    return scenario


def decide(scenario: Scenario, policy: Policy) -> dict[str, Any]:
    """The decision for a scenario, as the JSON object `explain` prints."""
    debtor, account, history, attempt = snapshots(scenario)
    decision: Decision = evaluate(attempt, debtor, account, history, policy, scenario.now)
    out = decision.to_dict()
    out["zones"] = list(decision.zones or candidate_zones(debtor))
    out["places"] = sorted(places(debtor.state, debtor.zip, account.state))
    out["titles"] = {rule: rules.title(rule) for rule in decision.rules}
    if decision.text is not None and decision.text != scenario.content:
        out["text"] = decision.text
    return out


def snapshots(
    scenario: Scenario,
) -> tuple[DebtorSnapshot, AccountSnapshot, tuple[Contact, ...], Attempt]:
    d, a = scenario.debtor, scenario.account
    debtor = DebtorSnapshot(
        state=d.state,
        zip=d.zip,
        timezone=d.timezone,
        phones=tuple(d.phones),
        emails=tuple(EmailAddress(e.address, e.work, e.consented) for e in d.emails),
        holds=frozenset(d.holds),
        opted_out=frozenset(d.opted_out),
        inconvenient_times=tuple(
            InconvenientTime(
                start=time.fromisoformat(i.start),
                end=time.fromisoformat(i.end),
                days=frozenset(WEEKDAYS.index(x) for x in i.days) if i.days else None,
                channel=i.channel,
            )
            for i in d.inconvenient_times
        ),
        consented=frozenset(d.consented),
    )
    holds = set(a.holds) | ({"dispute"} if a.disputed_at is not None else set())
    account = AccountSnapshot(
        id=a.id,
        state=a.state,
        time_barred=a.time_barred,
        holds=frozenset(holds),
        validation_notice_sent_at=a.validation_notice_sent_at,
        disputed_at=a.disputed_at,
        promise_due_on=a.promise_due_on,
    )
    history = tuple(
        Contact(
            at=h.at,
            channel=h.channel,
            kind=h.kind,
            account_id=h.account_id if h.account_id is not None else a.id,
        )
        for h in scenario.history
    )
    to = scenario.to.strip() if scenario.to else None
    if to and scenario.channel in ("sms", "call"):
        to = _checked("to", to)
    attempt = Attempt(
        channel=scenario.channel,
        to=to.lower() if to and scenario.channel == "email" else to,
        kind=scenario.kind,
        content=scenario.content,
        threatens_suit=scenario.threatens_suit,
        first_contact=scenario.first_contact,
    )
    return debtor, account, history, attempt


def _checked(field: str, value: str) -> str:
    try:
        return _phone(value)
    except ValueError as exc:
        raise ScenarioError(field, str(exc)) from None


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "input"


def _message(error: Any) -> str:
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if error["type"] == "extra_forbidden":
        return "unknown field"
    return message
