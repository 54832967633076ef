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
from typing import Annotated, Any, Literal, NotRequired

import phonenumbers
from pydantic import (
    AfterValidator,
    AwareDatetime,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    with_config,
)
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from outreach.compliance import rules
from outreach.compliance.engine import PHONE_CHANNELS, contacted_phone, evaluate
from outreach.compliance.phone_zones import E164_NANP
from outreach.compliance.places import places, state_code
from outreach.compliance.policy import Policy
from outreach.compliance.timezones import candidate_zones, is_zone, zip_record
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
_BOM, _BOM_TEXT = b"\xef\xbb\xbf", "\ufeff"
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
    """A well-formed ZIP the table knows: an unknown one would silently fall back to the
    state's zones (or every US zone), which a mistyped ZIP must not do."""
    if not _ZIP.match(value):
        raise ValueError(f"expected a 5-digit ZIP (or ZIP+4), got {value!r}")
    if zip_record(value) is None:
        raise ValueError(f"unknown ZIP {value[:5]!r} (not in the shipped ZIP table)")
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


def _phone(value: str) -> str:
    """E.164 for a phone number; ValueError if it is not one. A NANP number already in
    E.164 is returned as is (phonenumbers would return the same string:
    tests/compliance/test_scenario.py checks it), before the cache: new numbers would
    only crowd it."""
    return value if E164_NANP.fullmatch(value) else _parsed_phone(value)


@lru_cache(maxsize=65536)
def _parsed_phone(value: str) -> str:
    """Cached: a scenario names the same number as `to`, in `phones` and in `consented`,
    and phonenumbers.parse costs about 17 µs."""
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


# The schema as TypedDicts: pydantic validates the JSON straight into dicts (in Rust but for
# the validators above), three to four times faster than into models, which matters at
# 20,000 scenarios a second (`--jsonl`). Absent fields take their defaults in `snapshots`.
_FORBID = ConfigDict(extra="forbid")


@with_config(_FORBID)
class EmailIn(TypedDict):
    address: Email
    work: NotRequired[bool]  # default false
    consented: NotRequired[bool]  # the consumer consented to or used this address (F12)


@with_config(_FORBID)
class InconvenientIn(TypedDict):
    start: HHMM
    end: HHMM
    days: NotRequired[Annotated[list[Weekday], Field(min_length=1)] | None]
    channel: NotRequired[ContactChannel | None]


@with_config(_FORBID)
class DebtorIn(TypedDict, total=False):
    state: State | None
    zip: Zip | None
    other_zips: list[Zip]  # the ZIPs of other addresses on file (F2: more places)
    timezone: Zone | None
    phones: list[Phone]
    emails: list[EmailIn]
    inconvenient_times: list[InconvenientIn]
    holds: list[HoldKind]
    opted_out: list[Address]  # single addresses opted out (F7)
    consented: list[Address]  # addresses with consent (NYC)


@with_config(_FORBID)
class AccountIn(TypedDict, total=False):
    id: int  # default 1
    state: State | None
    time_barred: bool
    validation_notice_sent_at: AwareDatetime | None
    disputed_at: AwareDatetime | None  # set: the dispute is open (no verification yet)
    promise_due_on: date | None  # an open promise to pay
    holds: list[HoldKind]


@with_config(_FORBID)
class HistoryIn(TypedDict):
    channel: ContactChannel
    at: AwareDatetime
    kind: NotRequired[CallOutcome]  # default attempt
    account_id: NotRequired[int | None]  # default: the scenario's account


@with_config(_FORBID)
class Scenario(TypedDict):
    now: AwareDatetime
    channel: ContactChannel
    to: NotRequired[str | None]
    debtor: NotRequired[DebtorIn]
    account: NotRequired[AccountIn]
    history: NotRequired[list[HistoryIn]]
    content: NotRequired[str | None]
    kind: NotRequired[MessageKind]  # default collection
    threatens_suit: NotRequired[bool]  # the template declares it (F18)
    first_contact: NotRequired[bool | None]  # for the F14 content check; default from history


_SCENARIO: TypeAdapter[Scenario] = TypeAdapter(Scenario)


def explain(raw: str | bytes, policy: Policy) -> dict[str, Any]:
    """The decision for one JSON scenario, as `explain` prints it (and `--jsonl`, per line)."""
    return decide(parse(raw), policy)


def parse(raw: str | bytes) -> Scenario:
    """Validate one JSON document; raises ScenarioError naming the first bad field."""
    # A byte-order mark, as spreadsheets and Windows tools write one, is no part of the JSON.
    raw = raw.removeprefix(_BOM) if isinstance(raw, bytes) else raw.removeprefix(_BOM_TEXT)
    try:
        scenario = _SCENARIO.validate_json(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise ScenarioError(_path(first["loc"]), _message(first)) from None
    channel, to = scenario["channel"], scenario.get("to")
    if channel != "letter" and not (to or "").strip():
        raise ScenarioError("to", f"required for channel {channel}")
    if to and channel in PHONE_CHANNELS:
        _checked("to", to)
    if to and channel == "email" and "@" not in to:
        raise ScenarioError("to", f"not an email address: {to!r}")
    return scenario


# One encoder (json.dumps makes one per call with these options); decisions hold no cycles.
_ENCODER = json.JSONEncoder(ensure_ascii=False, check_circular=False)


def encode(answer: dict[str, Any], *, pretty: bool = False) -> str:
    """An answer as one line of JSON (`pretty`: indented)."""
    return json.dumps(answer, indent=2, ensure_ascii=False) if pretty else _ENCODER.encode(answer)


def decide(scenario: Scenario, policy: Policy) -> dict[str, Any]:
    """The decision for a scenario, as the JSON object `explain` prints."""
    debtor, account, history, attempt = snapshots(scenario)
    decision: Decision = evaluate(attempt, debtor, account, history, policy, scenario["now"])
    out = decision.to_dict()
    out["zones"] = list(decision.zones or candidate_zones(debtor, to=contacted_phone(attempt)))
    out["places"] = sorted(places(debtor.state, debtor.zip, account.state))
    out["titles"] = {rule: rules.title(rule) for rule in decision.rules}
    if decision.text is not None and decision.text != scenario.get("content"):
        out["text"] = decision.text
    return out


def snapshots(
    scenario: Scenario,
) -> tuple[DebtorSnapshot, AccountSnapshot, tuple[Contact, ...], Attempt]:
    """The engine's view of a scenario, built once per line of `--jsonl`: empty fields share
    one empty value, and history instants are converted to UTC once. The rules compare them
    many times (about 10x faster in UTC than in pydantic's fixed offsets), and a cap's
    release, an instant computed from one, is then reported in UTC as the README says."""
    d: DebtorIn = scenario.get("debtor") or {}
    a: AccountIn = scenario.get("account") or {}
    account_id = a.get("id", 1)
    debtor = DebtorSnapshot(
        state=d.get("state"),
        zip=d.get("zip"),
        other_zips=tuple(d.get("other_zips", ())),
        timezone=d.get("timezone"),
        phones=tuple(d.get("phones", ())),
        emails=tuple(
            [
                EmailAddress(e["address"], e.get("work", False), e.get("consented", False))
                for e in d.get("emails", ())
            ]
        ),
        holds=_set(d.get("holds")),
        opted_out=_set(d.get("opted_out")),
        inconvenient_times=tuple([_inconvenient(i) for i in d.get("inconvenient_times", ())]),
        consented=_set(d.get("consented")),
    )
    disputed_at = a.get("disputed_at")
    holds = _set(a.get("holds"))
    if disputed_at is not None:
        holds |= _DISPUTE
    account = AccountSnapshot(
        id=account_id,
        state=a.get("state"),
        time_barred=a.get("time_barred", False),
        holds=holds,
        validation_notice_sent_at=a.get("validation_notice_sent_at"),
        disputed_at=disputed_at,
        promise_due_on=a.get("promise_due_on"),
    )
    history = tuple(
        [
            Contact(
                at=h["at"].astimezone(UTC),
                channel=h["channel"],
                kind=h.get("kind", CallOutcome.ATTEMPT),
                account_id=account_id if h.get("account_id") is None else h.get("account_id"),
            )
            for h in scenario.get("history", ())
        ]
    )
    channel = scenario["channel"]
    to = (scenario.get("to") or "").strip() or None
    if to and channel in PHONE_CHANNELS:
        to = _checked("to", to)
    attempt = Attempt(
        channel=channel,
        to=to.lower() if to and channel == "email" else to,
        kind=scenario.get("kind", MessageKind.COLLECTION),
        content=scenario.get("content"),
        threatens_suit=scenario.get("threatens_suit", False),
        first_contact=scenario.get("first_contact"),
    )
    return debtor, account, history, attempt


def _set(items: list[str] | None) -> frozenset[str]:
    return frozenset(items) if items else _NONE


_NONE: frozenset[str] = frozenset()
_DISPUTE: frozenset[str] = frozenset({"dispute"})


def _inconvenient(stated: InconvenientIn) -> InconvenientTime:
    days = stated.get("days")
    return InconvenientTime(
        start=time.fromisoformat(stated["start"]),
        end=time.fromisoformat(stated["end"]),
        days=frozenset(WEEKDAYS.index(x) for x in days) if days else None,
        channel=stated.get("channel"),
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
    if kind in ("model_type", "dict_type") and not error["loc"]:
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
