"""What a template may use: the one contract between the dispatcher and the template authors.

The dispatcher fills these from the database; `outreach check` renders every template with
`sample_context` so a template that names anything else fails before a real send does.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from outreach.config.settings import AgencySettings, LetterSettings


@dataclass(frozen=True, slots=True)
class Debtor:
    first_name: str
    last_name: str
    full_name: str
    language: str = "en"


@dataclass(frozen=True, slots=True)
class Itemization:
    """The Regulation F itemization (1006.34(c)(2)(vi)-(viii)): the debt as of `date`, and since."""

    date: date
    amount: Decimal
    interest: Decimal
    fees: Decimal
    payments: Decimal
    credits: Decimal

    @property
    def payments_and_credits(self) -> Decimal:
        return self.payments + self.credits

    @property
    def total(self) -> Decimal:
        return self.amount + self.interest + self.fees - self.payments - self.credits


@dataclass(frozen=True, slots=True)
class Account:
    creditor: str
    original_creditor: str | None
    account_ref: str  # masked, e.g. "****4821"
    balance: Decimal
    due_date: date | None
    days_past_due: int
    state: str | None
    itemization: Itemization


@dataclass(frozen=True, slots=True)
class Agency:
    name: str
    phone: str
    email: str
    website: str
    address: list[str]
    hours: str
    license: str | None = None  # the license number for the debtor's state, if any
    # What shows through the envelope's top window (F20); empty means name + address.
    return_address: list[str] = field(default_factory=list)

    @classmethod
    def from_settings(
        cls,
        settings: AgencySettings,
        *,
        state: str | None = None,
        letter: LetterSettings | None = None,
    ) -> Agency:
        """The agency as the debtor in `state` sees it: with that state's license, if any."""
        return cls(
            name=settings.name,
            phone=settings.phone,
            email=settings.email,
            website=settings.website,
            address=list(settings.address),
            hours=settings.hours,
            license=settings.licenses.get(state.upper()) if state else None,
            return_address=list(letter.return_address) if letter else [],
        )


@dataclass(frozen=True, slots=True)
class Validation:
    sent_on: date
    period_ends: date  # computed by the dispatcher per F15


@dataclass(frozen=True, slots=True)
class Links:
    pay: str
    dispute: str
    unsubscribe: str | None = None  # email only


@dataclass(frozen=True, slots=True)
class TemplateContext:
    debtor: Debtor
    account: Account
    agency: Agency
    validation: Validation
    links: Links
    mailing_address: list[str]
    today: date
    campaign: str
    step: str
    first_contact: bool

    def as_dict(self) -> dict[str, Any]:
        """Top-level names for Jinja; shallow on purpose (no copying on the hot path)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


_SAMPLE_TODAY = date(2026, 12, 15)


def sample_context(channel: str = "letter", *, first_contact: bool = False) -> TemplateContext:
    """Realistic values that exercise every branch a template is likely to have."""
    today = _SAMPLE_TODAY
    site = "https://pay.example-recovery.test"
    itemization = Itemization(
        date=date(2026, 9, 30),
        amount=Decimal("1184.20"),
        interest=Decimal("42.36"),
        fees=Decimal("35.00"),
        payments=Decimal("25.00"),
        credits=Decimal("2.00"),
    )
    return TemplateContext(
        debtor=Debtor(first_name="Jordan", last_name="Rivera", full_name="Jordan A. Rivera"),
        account=Account(
            creditor="Acme Bank, N.A.",
            original_creditor="Summit Card Services",
            account_ref="****4821",
            balance=itemization.total,
            due_date=date(2026, 8, 1),
            days_past_due=136,
            state="CA",
            itemization=itemization,
        ),
        agency=Agency(
            name="Example Recovery Services LLC",
            phone="+18005550199",
            email="help@example-recovery.test",
            website=site,
            address=["PO Box 1000", "Springfield, IL 62701"],
            hours="Monday to Friday, 8 a.m. to 8 p.m. Central",
            license="10558-99",
        ),
        validation=Validation(sent_on=today, period_ends=today + timedelta(days=37)),
        links=Links(
            pay=f"{site}/p/7Hq2Kx",
            dispute=f"{site}/d/7Hq2Kx",
            unsubscribe=f"{site}/u/7Hq2Kx" if channel == "email" else None,
        ),
        mailing_address=["Jordan A. Rivera", "1428 Elm Street, Apt 3B", "Fresno, CA 93721"],
        today=today,
        campaign="standard",
        step="sample",
        first_contact=first_contact,
    )
