"""The portfolio CSV's columns and their allowed values (the contract is documented in
`outreach.portfolio.importer`)."""

from __future__ import annotations

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


PHONE_TYPES = ("mobile", "home", "work")


EMAIL_TYPES = ("personal", "work")


CONSENTS = ("granted", "unknown", "revoked")
