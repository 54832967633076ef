"""Import debtors, accounts, contact points and holds from a CSV portfolio file.

The file is UTF-8 (a BOM is fine) with a header row; column names are matched
case-insensitively. Columns marked * must be in the header and filled in every row;
the others may be left out of the header or left blank.

    debtor_id*          the client's id for the person (idempotency key, <= 64 chars)
    first_name*, last_name*
    language            IETF tag, default "en"
    timezone            an IANA zone the consumer stated (e.g. America/Denver)
    account_id*         the client's id for the account (idempotency key, <= 64 chars)
    creditor*           current owner of the debt
    original_creditor   when the debt was sold
    account_number*
    balance*            money: 1234.56 (also "$1,234.56"); never negative
    itemization_date*   Regulation F itemization date, YYYY-MM-DD or MM/DD/YYYY
    itemization_amount*, interest*, fees*, payments*, credits*
                        itemization_amount + interest + fees - payments - credits = balance
    due_date            YYYY-MM-DD or MM/DD/YYYY
    days_past_due*      whole days, >= 0
    account_state       2-letter state whose law governs; default: the address state
    time_barred         yes/no/true/false/1/0
    tags                ';'-separated, e.g. "hardship;medical"
    phone1, phone2      any format phonenumbers parses (default region US); stored as E.164
    phone1_type, phone2_type         mobile | home | work
    phone1_consent, phone2_consent   granted | unknown (default) | revoked
    email, email_type (personal | work), email_consent
    address1*, address2, city*, state*, zip*     US postal address; ZIP 5 or 9 digits
    hold                cease | attorney | bankruptcy | deceased | dispute
    hold_scope          debtor | account (default: account for dispute, debtor otherwise)

A debtor with several accounts takes one row per account, repeating the debtor's
columns. The import is idempotent by debtor_id and account_id: a row that changes
nothing is counted `unchanged`. Imports only ever add: new contact points, new tags,
new holds (never a duplicate open hold of the same kind and scope); a blank optional
cell keeps what is stored. Consent only moves towards "revoked" (an opt-out recorded
since the last import is never undone by re-importing an old file).

Invalid rows are reported with their physical line number and skipped; the rest of
the file imports. Header, encoding and file-access problems raise `ImportFileError`
before anything is written.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import difflib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import us
from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from outreach.clock import Clock
from outreach.models import Account, Base, ContactPoint, Debtor, Hold, ImportRun, InboundMessage

__all__ = [
    "COLUMNS",
    "REQUIRED_COLUMNS",
    "ImportFileError",
    "ImportReport",
    "RowError",
    "import_csv",
]

REQUIRED_COLUMNS: tuple[str, ...] = (
    "debtor_id",
    "first_name",
    "last_name",
    "account_id",
    "creditor",
    "account_number",
    "balance",
    "itemization_date",
    "itemization_amount",
    "interest",
    "fees",
    "payments",
    "credits",
    "days_past_due",
    "address1",
    "city",
    "state",
    "zip",
)
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "language",
    "timezone",
    "original_creditor",
    "due_date",
    "account_state",
    "time_barred",
    "tags",
    "phone1",
    "phone1_type",
    "phone1_consent",
    "phone2",
    "phone2_type",
    "phone2_consent",
    "email",
    "email_type",
    "email_consent",
    "address2",
    "hold",
    "hold_scope",
)
COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

BATCH_SIZE = 500  # rows per transaction
HOLD_KINDS = ("cease", "attorney", "bankruptcy", "deceased", "dispute")
PHONE_TYPES = ("mobile", "home", "work")
EMAIL_TYPES = ("personal", "work")
CONSENTS = ("granted", "unknown", "revoked")
_CONSENT_RANK = {"unknown": 0, "granted": 1, "revoked": 2}
_STATES = frozenset(s.abbr for s in us.states.STATES_AND_TERRITORIES) | {"DC"}
_BOOLS = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False}
_BOOLS |= {"false": False, "0": False}
_CENTS = Decimal("0.01")
_MAX_MONEY = Decimal("1e10")  # Numeric(12, 2)
_MAX_DAYS = 36_500
# A light, deliberately strict check: one @, a dotted domain, an alphabetic TLD.
_EMAIL_RE = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)
_ZIP_RE = re.compile(r"^(\d{5})(?:-?(\d{4}))?$")
_LANG_RE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,4})?$")
_TAG_RE = re.compile(r"^[a-z0-9][a-z0-9_:-]{0,31}$")

T = TypeVar("T")


class ImportFileError(Exception):
    """The file as a whole cannot be imported; nothing was written."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RowError:
    line: int  # physical line where the row starts (1 = header)
    field: str  # column name, or "row" for the shape of the row
    reason: str
    external_id: str | None = None  # the row's debtor_id/account_id, when readable

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ImportReport:
    """Counts are per data row: rows = created + updated + unchanged + rejected rows."""

    rows: int
    created: int  # the row's account was new
    updated: int  # something stored changed or was added
    unchanged: int
    rejected: list[RowError] = field(default_factory=list)  # one per bad field

    @property
    def rejected_rows(self) -> int:
        return len({e.line for e in self.rejected})


# ---------------------------------------------------------------------------- parsing


class _Invalid(ValueError):
    """A cell's value is wrong; the message is the reason shown to the user."""


@dataclass(frozen=True, slots=True)
class _Contact:
    kind: str  # phone | email | address
    value: str
    label: str | None
    consent: str
    address: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    debtor_ext: str
    account_ext: str
    debtor: dict[str, Any]  # only the columns given: blank optional cells keep what is stored
    account: dict[str, Any]
    tags: tuple[str, ...]
    contacts: tuple[_Contact, ...]
    hold: tuple[str, str] | None  # (kind, "debtor" | "account")


def _text(max_len: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if len(value) > max_len:
            raise _Invalid(f"longer than {max_len} characters")
        return value

    return parse


def _one_line(max_len: int) -> Callable[[str], str]:
    """Address parts: newlines and runs of spaces become one space (value is one line)."""
    check = _text(max_len)

    def parse(value: str) -> str:
        return check(" ".join(value.split()))

    return parse


def _choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        v = value.lower()
        if v not in options:
            raise _Invalid(f"{value!r} is not one of {', '.join(options)}")
        return v

    return parse


def _money(value: str) -> Decimal:
    cleaned = value.replace("$", "").replace(",", "").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise _Invalid(f"{value!r} is not an amount of money") from None
    if not amount.is_finite():
        raise _Invalid(f"{value!r} is not an amount of money")
    if amount != amount.quantize(_CENTS):
        raise _Invalid(f"{value!r} has fractions of a cent")
    if amount < 0:
        raise _Invalid(f"negative amount {value}")
    if amount >= _MAX_MONEY:
        raise _Invalid(f"{value} is too large")
    return amount.quantize(_CENTS)


def _date(value: str) -> date:
    try:
        if len(value) == 10 and value[4] == "-":
            return date.fromisoformat(value)  # fast path; also rejects 2024-02-30
        return datetime.strptime(value, "%m/%d/%Y").date()
    except ValueError:
        pass
    raise _Invalid(f"{value!r} is not a date (YYYY-MM-DD or MM/DD/YYYY)")


def _days(value: str) -> int:
    if not value.isdigit():
        raise _Invalid(f"{value!r} is not a whole number of days >= 0")
    if int(value) > _MAX_DAYS:
        raise _Invalid(f"{value} days is more than a century")
    return int(value)


def _bool(value: str) -> bool:
    try:
        return _BOOLS[value.lower()]
    except KeyError:
        raise _Invalid(f"{value!r} is not yes/no/true/false/1/0") from None


def _state(value: str) -> str:
    v = value.upper()
    if v not in _STATES:
        raise _Invalid(f"{value!r} is not a US state or territory code")
    return v


def _zip(value: str) -> str:
    m = _ZIP_RE.match(value)
    if m is None:
        hint = " (leading zero lost?)" if value.isdigit() and len(value) in (3, 4) else ""
        raise _Invalid(f"{value!r} is not a 5- or 9-digit ZIP code{hint}")
    return f"{m[1]}-{m[2]}" if m[2] else m[1]


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise _Invalid(f"{value!r} is not an IANA time zone (e.g. America/Chicago)") from None
    return value


def _language(value: str) -> str:
    if not _LANG_RE.match(value):
        raise _Invalid(f"{value!r} is not a language tag (e.g. en, es, es-MX)")
    primary, _, region = value.partition("-")
    return f"{primary.lower()}-{region.upper()}" if region else primary.lower()


def _tags(value: str) -> tuple[str, ...]:
    tags: list[str] = []
    for raw in value.split(";"):
        tag = raw.strip().lower()
        if not tag:
            continue
        if not _TAG_RE.match(tag):
            raise _Invalid(f"{raw.strip()!r} is not a tag (letters, digits, _ : -)")
        if tag not in tags:
            tags.append(tag)
    return tuple(tags)


def _email(value: str) -> str:
    v = value.lower()
    local, _, domain = v.rpartition("@")
    if len(v) > 254 or len(local) > 64 or not _EMAIL_RE.match(v) or ".." in domain:
        raise _Invalid(f"{value!r} is not an email address")
    return v


def _phone_parser(region: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException as exc:
            raise _Invalid(f"{value!r} cannot be read as a phone number: {exc._msg}") from None
        if not phonenumbers.is_valid_number(number):
            reason = phonenumbers.is_possible_number_with_reason(number)
            why = {
                phonenumbers.ValidationResult.TOO_SHORT: "too short",
                phonenumbers.ValidationResult.TOO_LONG: "too long",
                phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
            }.get(reason, "no such area code or exchange")
            raise _Invalid(f"{value!r} is not a valid phone number ({why})")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    return parse


class _RowParser:
    """Turns one CSV record into a `_Row`, collecting every bad cell rather than the first."""

    def __init__(self, columns: list[str], default_region: str) -> None:
        self.columns = columns
        self.phone = _phone_parser(default_region)
        self.ext = _text(64)
        self.name = _text(100)
        self.long = _text(200)

    def parse(self, line: int, end: int, record: list[str]) -> _Row | list[RowError]:
        cells = {c: v.strip() for c, v in zip(self.columns, record, strict=False)}
        external = cells.get("account_id") or cells.get("debtor_id") or None
        extra = record[len(self.columns) :]
        if len(record) < len(self.columns) or any(v.strip() for v in extra):
            what = "more" if len(record) > len(self.columns) else "fewer"
            reason = f"{len(record)} fields, {what} than the {len(self.columns)} in the header"
            if end > line:
                reason += f" (a quote left open joins lines {line}-{end}?)"
            return [RowError(line, "row", reason, external)]
        errors: list[RowError] = []

        def get(column: str, parse: Callable[[str], T], *, required: bool = False) -> T | None:
            value = cells.get(column, "")
            if not value:
                if required:
                    errors.append(RowError(line, column, "required", external))
                return None
            try:
                return parse(value)
            except _Invalid as exc:
                errors.append(RowError(line, column, str(exc), external))
                return None

        debtor_ext = get("debtor_id", self.ext, required=True)
        account_ext = get("account_id", self.ext, required=True)
        debtor: dict[str, Any] = {
            "first_name": get("first_name", self.name, required=True),
            "last_name": get("last_name", self.name, required=True),
        }
        if (language := get("language", _language)) is not None:
            debtor["language"] = language
        if (tz := get("timezone", _timezone)) is not None:
            debtor["stated_timezone"] = tz

        money = {
            c: get(c, _money, required=True)
            for c in ("balance", "itemization_amount", "interest", "fees", "payments", "credits")
        }
        itemization_date = get("itemization_date", _date, required=True)
        account: dict[str, Any] = {
            "creditor": get("creditor", self.long, required=True),
            "account_number": get("account_number", self.ext, required=True),
            "balance": money["balance"],
            "days_past_due": get("days_past_due", _days, required=True),
        }
        if (original := get("original_creditor", self.long)) is not None:
            account["original_creditor"] = original
        if (due := get("due_date", _date)) is not None:
            account["due_date"] = due
        if (barred := get("time_barred", _bool)) is not None:
            account["time_barred"] = barred
        tags = get("tags", _tags) or ()

        contacts: list[_Contact] = []
        for n in ("phone1", "phone2"):
            number = get(n, self.phone)
            label = get(f"{n}_type", _choice(PHONE_TYPES))
            consent = get(f"{n}_consent", _choice(CONSENTS)) or "unknown"
            if number is not None:
                contacts.append(_Contact("phone", number, label, consent))
        email = get("email", _email)
        email_label = get("email_type", _choice(EMAIL_TYPES))
        email_consent = get("email_consent", _choice(CONSENTS)) or "unknown"
        if email is not None:
            contacts.append(_Contact("email", email, email_label, email_consent))

        address = {
            "line1": get("address1", _one_line(200), required=True),
            "line2": get("address2", _one_line(200)) or "",
            "city": get("city", _one_line(100), required=True),
            "state": get("state", _state, required=True),
            "zip": get("zip", _zip, required=True),
        }
        account["state"] = get("account_state", _state) or address["state"]

        hold_kind = get("hold", _choice(HOLD_KINDS))
        hold_scope = get("hold_scope", _choice(("debtor", "account")))
        if hold_scope is not None and hold_kind is None and cells.get("hold", "") == "":
            errors.append(RowError(line, "hold_scope", "given without a hold", external))

        amounts = {c: v for c, v in money.items() if v is not None}
        if len(amounts) == len(money):
            expected = (
                amounts["itemization_amount"]
                + amounts["interest"]
                + amounts["fees"]
                - amounts["payments"]
                - amounts["credits"]
            )
            if expected != amounts["balance"]:
                reason = (
                    f"{amounts['balance']} does not equal itemization_amount + interest + fees"
                    f" - payments - credits ({expected})"
                )
                errors.append(RowError(line, "balance", reason, external))

        if errors:
            if end > line:  # a multi-line record with bad cells: most likely a stray quote
                reason = f"spans lines {line}-{end}: a quote left open?"
                errors.append(RowError(line, "row", reason, external))
            return errors
        assert debtor_ext is not None and account_ext is not None  # guaranteed by `required`
        assert itemization_date is not None
        account["itemization"] = {
            "date": itemization_date.isoformat(),
            "amount": str(money["itemization_amount"]),
            "interest": str(money["interest"]),
            "fees": str(money["fees"]),
            "payments": str(money["payments"]),
            "credits": str(money["credits"]),
        }
        one_line = ", ".join(
            p
            for p in (address["line1"], address["line2"], address["city"])
            if p  # line2 is often blank
        )
        one_line = f"{one_line}, {address['state']} {address['zip']}"
        if len(one_line) > 320:
            return [
                RowError(line, "address1", "the address is longer than 320 characters", external)
            ]
        postal = {k: v or "" for k, v in address.items()}
        contacts.append(_Contact("address", one_line, None, "unknown", postal))
        hold = None
        if hold_kind is not None:
            hold = (hold_kind, hold_scope or ("account" if hold_kind == "dispute" else "debtor"))
        return _Row(line, debtor_ext, account_ext, debtor, account, tags, tuple(contacts), hold)


# ---------------------------------------------------------------------------- reading


def _check_utf8(path: Path) -> None:
    """Decode the whole file once up front, so a bad byte at row 90,000 writes nothing."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    line += chunk.count(b"\n", 0, exc.start)
                    raise ImportFileError(
                        path,
                        f"not UTF-8 text: byte 0x{chunk[exc.start]:02x} on line {line};"
                        " save the file as UTF-8",
                    ) from None
                line += chunk.count(b"\n")
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ImportFileError(path, "not UTF-8 text: the file ends mid-character") from None
    except OSError as exc:
        raise ImportFileError(path, exc.strerror or str(exc)) from None


def _check_csv(path: Path) -> None:
    """Parse the whole file once, so a CSV syntax error late in it writes nothing."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, strict=False)
        try:
            for _ in reader:
                pass
        except csv.Error as exc:
            raise ImportFileError(path, f"line {reader.line_num}: {exc}") from None


def _read_header(path: Path, reader: Iterator[list[str]]) -> list[str]:
    for record in reader:
        if any(cell.strip() for cell in record):
            break
    else:
        raise ImportFileError(path, "empty file: a header row is required")
    columns = [c.strip().lower().lstrip("\ufeff") for c in record]
    while columns and not columns[-1]:  # spreadsheets append empty columns
        columns.pop()
    known = set(COLUMNS)
    if not known.intersection(columns):
        raise ImportFileError(
            path, f"no header row: the first row has none of the columns {', '.join(COLUMNS)}"
        )
    problems: list[str] = []
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        problems.append(f"duplicate columns: {', '.join(dupes)}")
    unknown = [c for c in columns if c not in known]
    if unknown:
        described = []
        for c in unknown:
            close = difflib.get_close_matches(c, COLUMNS, n=1)
            if not c:
                described.append(f"a blank name (column {columns.index(c) + 1})")
                continue
            described.append(f"{c!r} (did you mean {close[0]!r}?)" if close else repr(c))
        problems.append(f"unknown columns: {', '.join(described)}")
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        problems.append(f"missing required columns: {', '.join(missing)}")
    if problems:
        raise ImportFileError(path, "bad header: " + "; ".join(problems))
    return columns


def _records(reader: Any) -> Iterator[tuple[int, int, list[str]]]:
    """(first line, last line, record) for each non-blank record; quoted newlines counted."""
    start = reader.line_num + 1
    for record in reader:
        if any(cell.strip() for cell in record):
            yield start, reader.line_num, record
        start = reader.line_num + 1


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# ---------------------------------------------------------------------------- writing


_DEBTOR_FIELDS = ("first_name", "last_name", "language", "stated_timezone")
_ACCOUNT_FIELDS = (
    "creditor",
    "original_creditor",
    "account_number",
    "balance",
    "itemization",
    "due_date",
    "days_past_due",
    "state",
    "time_barred",
    "tags",
)
_DEBTOR_DEFAULTS: dict[str, Any] = {"language": "en", "stated_timezone": None}
_ACCOUNT_DEFAULTS: dict[str, Any] = {
    "original_creditor": None,
    "due_date": None,
    "time_barred": False,
    "tags": [],
}


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


_DEBTORS, _ACCOUNTS = _table(Debtor), _table(Account)
_CONTACTS, _HOLDS = _table(ContactPoint), _table(Hold)


@dataclass(slots=True)
class _Stored:
    """A row's target as stored (id None: to insert), and whether this batch changed it."""

    id: int | None
    values: dict[str, Any]
    dirty: bool = False


@dataclass(slots=True)
class _StoredContact:
    id: int | None
    debtor_ext: str
    kind: str
    value: str
    label: str | None
    consent: str
    opted_out_at: datetime | None
    address: dict[str, str] | None
    source: str
    dirty: bool = False


class _Batch:
    """Plans one batch against what is stored (four queries), then writes it in bulk."""

    def __init__(self, session: Session, rows: list[_Row], source: str, now: datetime) -> None:
        self.session = session
        self.source = source
        self.now = now
        self.debtors: dict[str, _Stored] = {}
        self.accounts: dict[str, _Stored] = {}
        self.account_owner: dict[str, str] = {}  # account ext -> debtor ext
        self.contacts: dict[tuple[str, str, str], _StoredContact] = {}
        self.holds: set[tuple[str, str | None, str]] = set()  # (debtor ext, account ext, kind)
        self.new_holds: list[tuple[str, str | None, str, int]] = []
        self._load({r.debtor_ext for r in rows}, {r.account_ext for r in rows})
        self.stopped_by_reply = _stopped_by_reply(
            session, {c.value for r in rows for c in r.contacts if c.kind == "phone"}
        )

    def _load(self, debtor_exts: set[str], account_exts: set[str]) -> None:
        s = self.session
        debtor_ext_by_id: dict[int, str] = {}
        for d in s.execute(
            select(
                Debtor.id, Debtor.external_id, *(getattr(Debtor, f) for f in _DEBTOR_FIELDS)
            ).where(Debtor.external_id.in_(debtor_exts))
        ):
            debtor_ext_by_id[d.id] = d.external_id
            values = {f: getattr(d, f) for f in _DEBTOR_FIELDS}
            self.debtors[d.external_id] = _Stored(d.id, values)
        account_ext_by_id: dict[int, str] = {}
        for a in s.execute(
            select(
                Account.id,
                Account.external_id,
                Debtor.external_id.label("owner"),
                *(getattr(Account, f) for f in _ACCOUNT_FIELDS),
            )
            .join(Debtor, Account.debtor_id == Debtor.id)
            .where(Account.external_id.in_(account_exts))
        ):
            account_ext_by_id[a.id] = a.external_id
            values = {f: getattr(a, f) for f in _ACCOUNT_FIELDS}
            self.accounts[a.external_id] = _Stored(a.id, values)
            self.account_owner[a.external_id] = a.owner
        if not debtor_ext_by_id:
            return
        for c in s.execute(
            select(
                ContactPoint.id,
                ContactPoint.debtor_id,
                ContactPoint.kind,
                ContactPoint.value,
                ContactPoint.label,
                ContactPoint.consent,
                ContactPoint.opted_out_at,
            ).where(ContactPoint.debtor_id.in_(debtor_ext_by_id))
        ):
            ext = debtor_ext_by_id[c.debtor_id]
            self.contacts[(ext, c.kind, c.value)] = _StoredContact(
                c.id, ext, c.kind, c.value, c.label, c.consent, c.opted_out_at, None, ""
            )
        for debtor_id, account_id, kind in s.execute(
            select(Hold.debtor_id, Hold.account_id, Hold.kind).where(
                Hold.debtor_id.in_(debtor_ext_by_id), Hold.released_at.is_(None)
            )
        ):
            if account_id is None:
                self.holds.add((debtor_ext_by_id[debtor_id], None, kind))
            elif account_id in account_ext_by_id:
                self.holds.add((debtor_ext_by_id[debtor_id], account_ext_by_id[account_id], kind))

    def apply(self, row: _Row) -> str | RowError:
        """Fold one row into the plan: 'created', 'updated', 'unchanged' or why not."""
        owner = self.account_owner.get(row.account_ext)
        if owner is not None and owner != row.debtor_ext:
            reason = f"account {row.account_ext} belongs to debtor {owner}, not {row.debtor_ext}"
            return RowError(row.line, "account_id", reason, row.account_ext)
        changed = False

        debtor = self.debtors.get(row.debtor_ext)
        if debtor is None:
            debtor = _Stored(None, _DEBTOR_DEFAULTS | row.debtor)
            self.debtors[row.debtor_ext] = debtor
        else:
            changed |= _merge(debtor, row.debtor)

        account = self.accounts.get(row.account_ext)
        created = account is None
        if account is None:
            values = _ACCOUNT_DEFAULTS | row.account | {"tags": list(row.tags)}
            self.accounts[row.account_ext] = _Stored(None, values)
            self.account_owner[row.account_ext] = row.debtor_ext
        else:
            tags = account.values["tags"] or []
            merged_tags = tags + [t for t in row.tags if t not in tags]
            changed |= _merge(account, row.account | {"tags": merged_tags})

        source = f"{self.source}:{row.line}"
        for c in row.contacts:
            key = (row.debtor_ext, c.kind, c.value)
            stored = self.contacts.get(key)
            if stored is None:
                stopped_at = self.stopped_by_reply.get(c.value) if c.kind == "phone" else None
                consent = "revoked" if stopped_at is not None else c.consent
                self.contacts[key] = _StoredContact(
                    None,
                    row.debtor_ext,
                    c.kind,
                    c.value,
                    c.label,
                    consent,
                    stopped_at or (self.now if consent == "revoked" else None),
                    c.address,
                    source,
                )
                changed = True
                continue
            if c.label is not None and c.label != stored.label:
                stored.label, stored.dirty, changed = c.label, True, True
            if _CONSENT_RANK[c.consent] > _CONSENT_RANK.get(stored.consent, 0):
                stored.consent, stored.dirty, changed = c.consent, True, True
                if c.consent == "revoked" and stored.opted_out_at is None:
                    stored.opted_out_at = self.now

        if row.hold is not None:
            kind, scope = row.hold
            hold_key = (row.debtor_ext, row.account_ext if scope == "account" else None, kind)
            if hold_key not in self.holds:
                self.holds.add(hold_key)
                self.new_holds.append((*hold_key, row.line))
                changed = True

        if created:
            return "created"
        return "updated" if changed else "unchanged"

    def write(self) -> None:
        # Core inserts on the tables: the ORM's bulk path splits executemany batches
        # whenever a None moves between columns, which made it ~4x slower here.
        s, now = self.session, self.now
        new = [(ext, d) for ext, d in self.debtors.items() if d.id is None]
        if new:
            ids = s.execute(
                insert(_DEBTORS).returning(_DEBTORS.c.external_id, _DEBTORS.c.id),
                [{"external_id": ext, "created_at": now, **d.values} for ext, d in new],
            )
            for ext, id_ in ids:
                self.debtors[ext].id = id_
        changed = [{"id": d.id, **d.values} for d in self.debtors.values() if d.dirty]
        if changed:
            s.execute(update(Debtor), changed)

        new = [(ext, a) for ext, a in self.accounts.items() if a.id is None]
        if new:
            ids = s.execute(
                insert(_ACCOUNTS).returning(_ACCOUNTS.c.external_id, _ACCOUNTS.c.id),
                [
                    {
                        "external_id": ext,
                        "debtor_id": self.debtors[self.account_owner[ext]].id,
                        "created_at": now,
                        **a.values,
                    }
                    for ext, a in new
                ],
            )
            for ext, id_ in ids:
                self.accounts[ext].id = id_
        changed = [{"id": a.id, **a.values} for a in self.accounts.values() if a.dirty]
        if changed:
            s.execute(update(Account), changed)

        new_contacts = [
            {
                "debtor_id": self.debtors[c.debtor_ext].id,
                "kind": c.kind,
                "value": c.value,
                "label": c.label,
                "address": c.address,
                "consent": c.consent,
                "opted_out_at": c.opted_out_at,
                "source": c.source,
                "created_at": now,
            }
            for c in self.contacts.values()
            if c.id is None
        ]
        if new_contacts:
            s.execute(insert(_CONTACTS), new_contacts)
        changed = [
            {"id": c.id, "label": c.label, "consent": c.consent, "opted_out_at": c.opted_out_at}
            for c in self.contacts.values()
            if c.dirty
        ]
        if changed:
            s.execute(update(ContactPoint), changed)

        if self.new_holds:
            s.execute(
                insert(_HOLDS),
                [
                    {
                        "debtor_id": self.debtors[debtor_ext].id,
                        "account_id": self.accounts[acc_ext].id if acc_ext else None,
                        "kind": kind,
                        "reason": f"stated in the portfolio file, line {line}",
                        "source": f"{self.source}:{line}",
                        "created_at": now,
                    }
                    for debtor_ext, acc_ext, kind, line in self.new_holds
                ],
            )


def _stopped_by_reply(session: Session, phones: set[str]) -> dict[str, datetime]:
    """Numbers whose last word to us was an opt-out (maybe before they were in the
    portfolio, answered then as an unknown number): a new contact point for one of them
    starts opted out (T1), so an import can never undo a STOP."""
    if not phones:
        return {}
    last: dict[str, tuple[str | None, datetime]] = {}
    for number, intent, at in session.execute(
        select(InboundMessage.from_address, InboundMessage.intent, InboundMessage.received_at)
        .where(
            InboundMessage.channel == "sms",
            InboundMessage.from_address.in_(phones),
            InboundMessage.intent.in_(("opt_out", "opt_in")),
        )
        .order_by(InboundMessage.received_at, InboundMessage.id)
    ):
        last[number] = (intent, at)
    return {number: at for number, (intent, at) in last.items() if intent == "opt_out"}


def _merge(stored: _Stored, incoming: dict[str, Any]) -> bool:
    """Copy the given values over the stored ones; True when something differed."""
    changed = False
    for key, value in incoming.items():
        if stored.values.get(key) != value:
            stored.values[key] = value
            changed = True
    stored.dirty |= changed
    return changed


# ---------------------------------------------------------------------------- entry point


def import_csv(
    factory: sessionmaker[Session],
    path: Path,
    *,
    clock: Clock,
    default_region: str = "US",
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a portfolio CSV (see the module docstring), BATCH_SIZE rows a transaction.

    `progress` is called with the number of data rows handled so far after each batch.
    Raises ImportFileError for a missing, unreadable, non-UTF-8 or header-less file.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(path, "no such file" if not path.exists() else "not a file")
    _check_utf8(path)
    _check_csv(path)
    started = clock.now()
    source = f"import:{path.name[-150:]}"  # fits the 200-character source columns
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    rejected: list[RowError] = []
    rows = 0
    # Within one file the first row for a debtor defines it; a later row that contradicts
    # it is an error (else re-importing the file would flip the debtor back and forth).
    first_debtor_row: dict[str, tuple[int, dict[str, Any]]] = {}
    first_account_row: dict[str, int] = {}

    try:
        fh = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ImportFileError(path, exc.strerror or str(exc)) from None
    with fh:
        reader = csv.reader(fh, strict=False)
        try:
            columns = _read_header(path, reader)
        except csv.Error as exc:
            raise ImportFileError(path, f"unreadable header: {exc}") from None
        parser = _RowParser(columns, default_region)
        with factory.begin() as session:
            run = ImportRun(file=str(path)[-500:], started_at=started)
            session.add(run)
        try:
            for batch in _batches(_records(reader), BATCH_SIZE):
                parsed: list[_Row] = []
                for line, end, record in batch:
                    rows += 1
                    result = parser.parse(line, end, record)
                    if isinstance(result, list):
                        rejected.extend(result)
                        continue
                    conflict = _in_file_conflict(result, first_debtor_row, first_account_row)
                    if conflict is not None:
                        rejected.append(conflict)
                        continue
                    parsed.append(result)
                if parsed:
                    outcomes: list[str | RowError] = []
                    with factory.begin() as session:
                        plan = _Batch(session, parsed, source, clock.now())
                        outcomes = [plan.apply(row) for row in parsed]
                        plan.write()
                    for outcome in outcomes:  # counted once committed
                        if isinstance(outcome, RowError):
                            rejected.append(outcome)
                        else:
                            counts[outcome] += 1
                if progress is not None:
                    progress(rows)
        except BaseException as exc:
            # Earlier batches are committed: say so in the run's record, then re-raise.
            partial = ImportReport(rows=rows, rejected=rejected, **counts)
            note = f"aborted after {rows} rows: {type(exc).__name__}: {exc}"
            with contextlib.suppress(Exception):
                _finish_run(factory, run.id, partial, note)
            raise

    rejected.sort(key=lambda e: e.line)
    report = ImportReport(rows=rows, rejected=rejected, **counts)
    _finish_run(factory, run.id, report)
    return report


def _finish_run(
    factory: sessionmaker[Session], run_id: int, report: ImportReport, note: str | None = None
) -> None:
    errors = [str(e) for e in sorted(report.rejected, key=lambda e: e.line)]
    with factory.begin() as session:
        session.execute(
            update(ImportRun)
            .where(ImportRun.id == run_id)
            .values(
                rows=report.rows,
                created=report.created,
                updated=report.updated,
                rejected=report.rejected_rows,
                errors=[*errors, note] if note else errors,
            )
        )


def _in_file_conflict(
    row: _Row,
    first_debtor_row: dict[str, tuple[int, dict[str, Any]]],
    first_account_row: dict[str, int],
) -> RowError | None:
    if (first := first_account_row.get(row.account_ext)) is not None:
        reason = f"account {row.account_ext} already on line {first}"
        return RowError(row.line, "account_id", reason, row.account_ext)
    seen = first_debtor_row.get(row.debtor_ext)
    if seen is not None:
        line, values = seen
        for key, value in row.debtor.items():
            if key in values and values[key] != value:
                column = {"stated_timezone": "timezone"}.get(key, key)
                reason = f"differs from line {line} for the same debtor_id {row.debtor_ext}"
                return RowError(row.line, column, reason, row.account_ext)
    first_account_row[row.account_ext] = row.line
    first_debtor_row.setdefault(row.debtor_ext, (row.line, row.debtor))
    return None
