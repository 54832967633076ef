"""Build the template context (outreach/render_context.py) from database rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from outreach.channels.base import PostalAddress
from outreach.compliance import validation_period_end
from outreach.config.settings import AgencySettings
from outreach.db.rows import AccountRow, DebtorRow, PointRow
from outreach.masking import mask
from outreach.render import context as rc

_ZERO = Decimal("0.00")


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else _ZERO


def _date(value: Any, default: date) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(value) if value else default


def build_context(
    *,
    debtor: DebtorRow,
    account: AccountRow | None,
    agency: AgencySettings,
    address: PointRow | None,
    links: rc.Links,
    today: date,
    validation_sent_on: date | None,
    campaign: str,
    step: str,
    first_contact: bool,
) -> rc.TemplateContext:
    item = (account.itemization if account else None) or {}
    sent_on = validation_sent_on or today
    addr = (address.address or {}) if address else {}
    state = (account.state if account else None) or addr.get("state")
    return rc.TemplateContext(
        debtor=rc.Debtor(
            first_name=debtor.first_name,
            last_name=debtor.last_name,
            full_name=debtor.full_name,
            language=debtor.language,
        ),
        account=rc.Account(
            creditor=account.creditor if account else "",
            original_creditor=account.original_creditor if account else None,
            account_ref=mask(account.account_number) if account else "",
            balance=_decimal(account.balance) if account else _ZERO,
            due_date=account.due_date if account else None,
            days_past_due=account.days_past_due if account else 0,
            state=state,
            itemization=rc.Itemization(
                date=_date(item.get("date"), today),
                amount=_decimal(item.get("amount")),
                interest=_decimal(item.get("interest")),
                fees=_decimal(item.get("fees")),
                payments=_decimal(item.get("payments")),
                credits=_decimal(item.get("credits")),
            ),
        ),
        agency=rc.Agency.from_settings(agency, state=state),
        validation=rc.Validation(sent_on=sent_on, period_ends=validation_period_end(sent_on)),
        links=links,
        mailing_address=(
            PostalAddress.from_dict(debtor.full_name, addr).lines() if addr else [debtor.full_name]
        ),
        today=today,
        campaign=campaign,
        step=step,
        first_contact=first_contact,
    )
