"""One CSV record -> a validated row (debtor, account, contacts, hold) or the list of its errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from outreach.portfolio.cells import (
    Invalid,
    T,
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
    phone_parser,
)
from outreach.portfolio.columns import CONSENTS, EMAIL_TYPES, PHONE_TYPES
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


class RowParser:
    """Turns one CSV record into a `Row`, collecting every bad cell rather than the first."""

    def __init__(self, columns: list[str], default_region: str) -> None:
        self.columns = columns
        self.phone = phone_parser(default_region)
        self.ext = parse_text(64)
        self.name = parse_text(100)
        self.long = parse_text(200)

    def parse(self, line: int, end: int, record: list[str]) -> Row | list[RowError]:
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
            except Invalid as exc:
                errors.append(RowError(line, column, str(exc), external))
                return None

        debtor_ext = get("debtor_id", self.ext, required=True)
        account_ext = get("account_id", self.ext, required=True)
        debtor: dict[str, Any] = {
            "first_name": get("first_name", self.name, required=True),
            "last_name": get("last_name", self.name, required=True),
        }
        if (language := get("language", parse_language)) is not None:
            debtor["language"] = language
        if (tz := get("timezone", parse_timezone)) is not None:
            debtor["stated_timezone"] = tz

        money = {
            c: get(c, parse_money, required=True)
            for c in ("balance", "itemization_amount", "interest", "fees", "payments", "credits")
        }
        itemization_date = get("itemization_date", parse_date, required=True)
        account: dict[str, Any] = {
            "creditor": get("creditor", self.long, required=True),
            "account_number": get("account_number", self.ext, required=True),
            "balance": money["balance"],
            "days_past_due": get("days_past_due", parse_days, required=True),
        }
        if (original := get("original_creditor", self.long)) is not None:
            account["original_creditor"] = original
        if (due := get("due_date", parse_date)) is not None:
            account["due_date"] = due
        if (barred := get("time_barred", parse_bool)) is not None:
            account["time_barred"] = barred
        tags = get("tags", parse_tags) or ()

        contacts: list[_Contact] = []
        for n in ("phone1", "phone2"):
            number = get(n, self.phone)
            label = get(f"{n}_type", parse_choice(PHONE_TYPES))
            consent = get(f"{n}_consent", parse_choice(CONSENTS)) or "unknown"
            if number is not None:
                contacts.append(_Contact("phone", number, label, consent))
        email = get("email", parse_email)
        email_label = get("email_type", parse_choice(EMAIL_TYPES))
        email_consent = get("email_consent", parse_choice(CONSENTS)) or "unknown"
        if email is not None:
            contacts.append(_Contact("email", email, email_label, email_consent))

        address = {
            "line1": get("address1", parse_one_line(200), required=True),
            "line2": get("address2", parse_one_line(200)) or "",
            "city": get("city", parse_one_line(100), required=True),
            "state": get("state", parse_state, required=True),
            "zip": get("zip", parse_zip, required=True),
        }
        account["state"] = get("account_state", parse_state) or address["state"]

        hold_kind = get("hold", parse_choice(tuple(HoldKind)))
        hold_scope = get("hold_scope", parse_choice(("debtor", "account")))
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
        return Row(line, debtor_ext, account_ext, debtor, account, tags, tuple(contacts), hold)
