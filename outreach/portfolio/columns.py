"""The portfolio CSV's columns and their allowed values.

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
"""

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
