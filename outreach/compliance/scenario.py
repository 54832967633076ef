"""The public JSON interface of `outreach compliance explain`: one scenario in, one decision out.

The input schema is documented in the README and kept stable; fields may be added, never
changed in meaning. Unknown fields are refused (a typo must not silently change the answer),
and so is any value outside a field's vocabulary (a `kind` of "Collection" must not skip the
promise pause). `explain` is the one path from JSON text to the decision's JSON, for one
scenario and for each line of `--jsonl` alike.
"""

from __future__ import annotations

import difflib
import json
import re
from datetime import UTC, date, time
from functools import lru_cache
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from outreach.compliance import rules
from outreach.compliance.engine import contacted_phone, evaluate
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
from outreach.vocabulary import WEEKDAYS, CallOutcome, ContactChannel, MessageKind

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
KNOWN_HOLDS: frozenset[str] = frozenset(
    {"cease", "attorney", "bankruptcy", "deceased", "dispute"}
    | {f"opt_out:{channel}" for channel in ContactChannel}
)
_ZIP = re.compile(r"^\d{5}(?:-\d{4})?$")
_HHMM = re.compile(r"^\d{2}:\d{2}$")
# A NANP number already in E.164 with a valid first digit: phonenumbers would return it as is.
_E164_NANP = re.compile(r"\+1[2-9][0-9]{9}")
_QUOTED = re.compile(r"'([^']*)'")
_JSON_AT = re.compile(r"^(.*) at line (\d+) column (\d+)$")


class ScenarioError(ValueError):
    """Bad input: `field` is the dotted path of the offending field."""

    def __init__(self, field: str, message: str) -> None:
        self.field, self.message = field, " ".join(message.splitlines())  # one line on stderr
        super().__init__(f"{field}: {self.message}")


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
        known = sorted(KNOWN_HOLDS)
        raise ValueError(f"unknown hold {value!r} (known: {', '.join(known)}){_hint(value, known)}")
    return value


def _email(value: str) -> str:
    if "@" not in value.strip()[1:-1]:
        raise ValueError(f"not an email address: {value!r}")
    return value.strip().lower()


@lru_cache(maxsize=65536)
def _phone(value: str) -> str:
    """E.164 for a phone number; ValueError if it is not one.

    Cached: a scenario names the same number as `to`, in `phones` and in `consented`, and
    phonenumbers.parse costs about 17 µs. A NANP number already in E.164 skips it (the
    result would be the same string: tests/compliance/test_scenario.py checks it).
    """
    if _E164_NANP.fullmatch(value):
        return value
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
    kind: MessageKind = MessageKind.COLLECTION
    threatens_suit: bool = False  # the template declares it (F18)
    first_contact: bool | None = None  # for the F14 content check; default from history


def explain(raw: str | bytes, policy: Policy) -> dict[str, Any]:
    """The decision for one JSON scenario, as `explain` prints it (and `--jsonl`, per line)."""
    return decide(parse(raw), policy)


def parse(raw: str | bytes) -> Scenario:
    """Validate one JSON document; raises ScenarioError naming the first bad field."""
    try:
        scenario = Scenario.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise ScenarioError(_path(first["loc"]), _message(first)) from None
    if scenario.channel != "letter" and not (scenario.to or "").strip():
        raise ScenarioError("to", f"required for channel {scenario.channel}")
    if scenario.to and scenario.channel in ("sms", "call"):
        _checked("to", scenario.to)
    if scenario.to and scenario.channel == "email" and "@" not in scenario.to:
        raise ScenarioError("to", f"not an email address: {scenario.to!r}")
    return scenario


# One encoder (json.dumps makes one per call with these options); decisions hold no cycles.
_ENCODER = json.JSONEncoder(ensure_ascii=False, check_circular=False)


def encode(answer: dict[str, Any], *, pretty: bool = False) -> str:
    """An answer as one line of JSON (`pretty`: indented)."""
    return json.dumps(answer, indent=2, ensure_ascii=False) if pretty else _ENCODER.encode(answer)


def decide(scenario: Scenario, policy: Policy) -> dict[str, Any]:
    """The decision for a scenario, as the JSON object `explain` prints."""
    debtor, account, history, attempt = snapshots(scenario)
    decision: Decision = evaluate(attempt, debtor, account, history, policy, scenario.now)
    out = decision.to_dict()
    out["zones"] = list(decision.zones or candidate_zones(debtor, to=contacted_phone(attempt)))
    out["places"] = sorted(places(debtor.state, debtor.zip, account.state))
    out["titles"] = {rule: rules.title(rule) for rule in decision.rules}
    if decision.text is not None and decision.text != scenario.content:
        out["text"] = decision.text
    return out


def snapshots(
    scenario: Scenario,
) -> tuple[DebtorSnapshot, AccountSnapshot, tuple[Contact, ...], Attempt]:
    """The engine's view of a scenario, built once per line of `--jsonl`: empty fields share
    one empty value, and history instants are converted to UTC once. The rules compare them
    many times (about 10x faster in UTC than in pydantic's fixed offsets), and a cap's
    release, an instant computed from one, is then reported in UTC as the README says."""
    d, a = scenario.debtor, scenario.account
    debtor = DebtorSnapshot(
        state=d.state,
        zip=d.zip,
        timezone=d.timezone,
        phones=tuple(d.phones),
        emails=tuple([EmailAddress(e.address, e.work, e.consented) for e in d.emails]),
        holds=frozenset(d.holds) if d.holds else _NONE,
        opted_out=frozenset(d.opted_out) if d.opted_out else _NONE,
        inconvenient_times=tuple([_inconvenient(i) for i in d.inconvenient_times]),
        consented=frozenset(d.consented) if d.consented else _NONE,
    )
    holds = frozenset(a.holds) if a.holds else _NONE
    if a.disputed_at is not None:
        holds |= _DISPUTE
    account = AccountSnapshot(
        id=a.id,
        state=a.state,
        time_barred=a.time_barred,
        holds=holds,
        validation_notice_sent_at=a.validation_notice_sent_at,
        disputed_at=a.disputed_at,
        promise_due_on=a.promise_due_on,
    )
    history = tuple(
        [
            Contact(
                at=h.at.astimezone(UTC),
                channel=h.channel,
                kind=h.kind,
                account_id=a.id if h.account_id is None else h.account_id,
            )
            for h in scenario.history
        ]
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


_NONE: frozenset[str] = frozenset()
_DISPUTE: frozenset[str] = frozenset({"dispute"})


def _inconvenient(stated: InconvenientIn) -> InconvenientTime:
    return InconvenientTime(
        start=time.fromisoformat(stated.start),
        end=time.fromisoformat(stated.end),
        days=frozenset(WEEKDAYS.index(x) for x in stated.days) if stated.days else None,
        channel=stated.channel,
    )


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
    kind = error["type"]
    if kind == "json_invalid":
        what = str(error.get("ctx", {}).get("error", ""))
        found = _JSON_AT.match(what)
        if found:
            return f"invalid JSON at line {found[2]}, column {found[3]}: {found[1]}"
        return f"invalid JSON: {what}"
    if kind == "model_type" and not error["loc"]:
        return "expected a JSON object"
    if kind == "extra_forbidden":
        return "unknown field"
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if kind in ("enum", "literal_error") and isinstance(error.get("input"), str):
        message += _hint(error["input"], _QUOTED.findall(str(error["ctx"]["expected"])))
    return message


def _hint(value: str, known: list[str]) -> str:
    """ "; did you mean 'collection'?" for a near miss (case, a typo); else ""."""
    same_case = [k for k in known if k.lower() == value.lower()]
    close = same_case or difflib.get_close_matches(value.lower(), known, n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""
