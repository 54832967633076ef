"""One CSV record -> a validated row (debtor, account, contacts, hold) or the list of its errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from outreach.portfolio.cells import (
    Invalid,
    parse_bool,
    parse_choice,
    parse_date,
    parse_days,
    parse_email,
    parse_language,
    parse_money,
    parse_one_line,
    parse_state,
    parse_tags,
    parse_text,
    parse_timezone,
    parse_zip,
)
from outreach.portfolio.columns import CONSENTS, EMAIL_TYPES, PHONE_TYPES
from outreach.portfolio.phones import phone_parser
from outreach.portfolio.report import RowError
from outreach.vocabulary import HoldKind


@dataclass(frozen=True, slots=True)
class _Contact:
    kind: str  # phone | email | address
    value: str
    label: str | None
    consent: str
    address: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    debtor_ext: str
    account_ext: str
    debtor: dict[str, Any]  # only the columns given: blank optional cells keep what is stored
    account: dict[str, Any]
    tags: tuple[str, ...]
    contacts: tuple[_Contact, ...]
    hold: tuple[str, str] | None  # (kind, "debtor" | "account")


_MONEY = ("balance", "itemization_amount", "interest", "fees", "payments", "credits")


class RowParser:
    """Turns one CSV record into a `Row`, collecting every bad cell rather than the first.

    The cells are checked in a fixed order (the order errors are reported in), each by a
    parser built once for the file.
    """

    def __init__(self, columns: list[str], default_region: str) -> None:
        self.columns = columns
        ext, name, long = parse_text(64), parse_text(100), parse_text(200)
        phone = phone_parser(default_region)
        phone_type, email_type = parse_choice(PHONE_TYPES), parse_choice(EMAIL_TYPES)
        consent = parse_choice(CONSENTS)
        # (column, parser, required), in the order the cells are checked.
        specs: list[tuple[str, Callable[[str], Any], bool]] = [
            ("debtor_id", ext, True),
            ("account_id", ext, True),
            ("first_name", name, True),
            ("last_name", name, True),
            ("language", parse_language, False),
            ("timezone", parse_timezone, False),
            *((c, parse_money, True) for c in _MONEY),
            ("itemization_date", parse_date, True),
            ("creditor", long, True),
            ("account_number", ext, True),
            ("days_past_due", parse_days, True),
            ("original_creditor", long, False),
            ("due_date", parse_date, False),
            ("time_barred", parse_bool, False),
            ("tags", parse_tags, False),
            ("phone1", phone, False),
            ("phone1_type", phone_type, False),
            ("phone1_consent", consent, False),
            ("phone2", phone, False),
            ("phone2_type", phone_type, False),
            ("phone2_consent", consent, False),
            ("email", parse_email, False),
            ("email_type", email_type, False),
            ("email_consent", consent, False),
            ("address1", parse_one_line(200), True),
            ("address2", parse_one_line(200), False),
            ("city", parse_one_line(100), True),
            ("state", parse_state, True),
            ("zip", parse_zip, True),
            ("account_state", parse_state, False),
            ("hold", parse_choice(tuple(HoldKind)), False),
            ("hold_scope", parse_choice(("debtor", "account")), False),
        ]
        self.specs = specs

    def parse(self, line: int, end: int, record: list[str]) -> Row | list[RowError]:
        cells = dict(zip(self.columns, map(str.strip, record), strict=False))
        external = cells.get("account_id") or cells.get("debtor_id") or None
        width = len(self.columns)
        if len(record) != width and (len(record) < width or any(v.strip() for v in record[width:])):
            what = "more" if len(record) > width else "fewer"
            reason = f"{len(record)} fields, {what} than the {width} in the header"
            if end > line:
                reason += f" (a quote left open joins lines {line}-{end}?)"
            return [RowError(line, "row", reason, external)]
        errors: list[RowError] = []
        v: dict[str, Any] = {}  # the parsed value of each non-blank, valid cell
        for column, parse, required in self.specs:
            value = cells.get(column)
            if not value:
                if required:
                    errors.append(RowError(line, column, "required", external))
                continue
            try:
                v[column] = parse(value)
            except Invalid as exc:
                errors.append(RowError(line, column, str(exc), external))

        if "hold_scope" in v and "hold" not in v and not cells.get("hold"):
            errors.append(RowError(line, "hold_scope", "given without a hold", external))
        if all(c in v for c in _MONEY):
            expected = (
                v["itemization_amount"] + v["interest"] + v["fees"] - v["payments"] - v["credits"]
            )
            if expected != v["balance"]:
                reason = (
                    f"{v['balance']} does not equal itemization_amount + interest + fees"
                    f" - payments - credits ({expected})"
                )
                errors.append(RowError(line, "balance", reason, external))
        if errors:
            if end > line:  # a multi-line record with bad cells: most likely a stray quote
                reason = f"spans lines {line}-{end}: a quote left open?"
                errors.append(RowError(line, "row", reason, external))
            return errors

        debtor: dict[str, Any] = {"first_name": v["first_name"], "last_name": v["last_name"]}
        if "language" in v:
            debtor["language"] = v["language"]
        if "timezone" in v:
            debtor["stated_timezone"] = v["timezone"]
        address = {
            "line1": v["address1"],
            "line2": v.get("address2") or "",
            "city": v["city"],
            "state": v["state"],
            "zip": v["zip"],
        }
        account: dict[str, Any] = {
            "creditor": v["creditor"],
            "account_number": v["account_number"],
            "balance": v["balance"],
            "days_past_due": v["days_past_due"],
        }
        if "original_creditor" in v:
            account["original_creditor"] = v["original_creditor"]
        if "due_date" in v:
            account["due_date"] = v["due_date"]
        if "time_barred" in v:
            account["time_barred"] = v["time_barred"]
        account["state"] = v.get("account_state") or address["state"]
        account["itemization"] = {
            "date": v["itemization_date"].isoformat(),
            "amount": str(v["itemization_amount"]),
            "interest": str(v["interest"]),
            "fees": str(v["fees"]),
            "payments": str(v["payments"]),
            "credits": str(v["credits"]),
        }

        contacts: list[_Contact] = []
        for n in ("phone1", "phone2"):
            if n in v:
                consent = v.get(f"{n}_consent") or "unknown"
                contacts.append(_Contact("phone", v[n], v.get(f"{n}_type"), consent))
        if "email" in v:
            consent = v.get("email_consent") or "unknown"
            contacts.append(_Contact("email", v["email"], v.get("email_type"), consent))
        parts = (address["line1"], address["line2"], address["city"])
        one_line = ", ".join(p for p in parts if p)  # line2 is often blank
        one_line = f"{one_line}, {address['state']} {address['zip']}"
        if len(one_line) > 320:
            return [
                RowError(line, "address1", "the address is longer than 320 characters", external)
            ]
        contacts.append(_Contact("address", one_line, None, "unknown", address))
        hold = None
        if (hold_kind := v.get("hold")) is not None:
            scope = v.get("hold_scope") or ("account" if hold_kind == "dispute" else "debtor")
            hold = (hold_kind, scope)
        tags = v.get("tags") or ()
        return Row(
            line, v["debtor_id"], v["account_id"], debtor, account, tags, tuple(contacts), hold
        )
