"""Build debtors directly in the database for pipeline tests (the importer has its own tests)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from itertools import count
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from outreach.db.models import Account, ContactPoint, Debtor, Hold, Message
from outreach.vocabulary import MessageState

_ids = count(1)
PHONE = "+12125550143"  # add_debtor's default mobile


def add_debtor(
    factory: sessionmaker[Session],
    now: datetime,
    *,
    first: str = "Maria",
    last: str = "Lopez",
    phones: list[tuple[str, str]] | None = None,  # (E.164, label)
    emails: list[tuple[str, str]] | None = None,  # (address, label)
    address: dict[str, str] | None = None,
    stated_timezone: str | None = None,
    balance: str = "812.40",
    tags: list[str] | None = None,
    holds: list[tuple[str, str]] | None = None,  # (kind, "debtor" | "account")
    time_barred: bool = False,
) -> tuple[int, int]:
    """Returns (debtor id, account id)."""
    n = next(_ids)
    address = (
        address
        if address is not None
        else {
            "line1": "350 5th Ave",
            "line2": "",
            "city": "New York",
            "state": "NY",
            "zip": "10118",
        }
    )
    with factory.begin() as session:
        debtor = Debtor(
            external_id=f"D{n:05d}",
            first_name=first,
            last_name=last,
            stated_timezone=stated_timezone,
            created_at=now,
        )
        session.add(debtor)
        session.flush()
        account = Account(
            external_id=f"A{n:05d}",
            debtor_id=debtor.id,
            creditor="Northwind Bank",
            original_creditor="Northwind Bank Visa",
            account_number=f"4000123412340{n:03d}",
            balance=Decimal(balance),
            itemization={
                "date": "2026-06-30",
                "amount": balance,
                "interest": "0",
                "fees": "0",
                "payments": "0",
                "credits": "0",
            },
            days_past_due=120,
            state=address.get("state") or "NY",
            time_barred=time_barred,
            tags=tags or [],
            created_at=now,
        )
        session.add(account)
        session.flush()
        points: list[ContactPoint] = []
        for value, label in phones if phones is not None else [("+12125550143", "mobile")]:
            points.append(_point(debtor.id, "phone", value, label, now))
        for value, label in emails if emails is not None else [("maria@example.com", "personal")]:
            points.append(_point(debtor.id, "email", value, label, now))
        if address:
            one_line = f"{address['line1']}, {address['city']}, {address['state']} {address['zip']}"
            points.append(_point(debtor.id, "address", one_line, None, now, address=address))
        session.add_all(points)
        for kind, scope in holds or []:
            session.add(
                Hold(
                    debtor_id=debtor.id,
                    account_id=account.id if scope == "account" else None,
                    kind=kind,
                    reason="test",
                    source="test",
                    created_at=now,
                )
            )
        return debtor.id, account.id


def _point(
    debtor_id: int, kind: str, value: str, label: str | None, now: datetime, **extra: Any
) -> ContactPoint:
    return ContactPoint(
        debtor_id=debtor_id,
        kind=kind,
        value=value,
        label=label,
        consent="granted",
        source="test",
        created_at=now,
        **extra,
    )


def add_sent_sms(factory: sessionmaker[Session], now: datetime, sid: str) -> int:
    """A new debtor (add_debtor's defaults) and a reminder SMS sent to their mobile under
    the provider's `sid`: what status callbacks refer to. Returns the message's id."""
    debtor_id, account_id = add_debtor(factory, now)
    with factory.begin() as session:
        message = Message(
            debtor_id=debtor_id,
            account_id=account_id,
            channel="sms",
            template="sms/reminder",
            to_address=PHONE,
            state=MessageState.SENT,
            provider_id=sid,
            due_at=now,
            sent_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(message)
        session.flush()
        return message.id
