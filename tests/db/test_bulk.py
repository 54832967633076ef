"""insert_rows writes what a Core insert writes: the same values back, the same defaults."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Engine, insert, select

from outreach.db.bulk import insert_rows
from outreach.db.models import Account, Debtor


def test_rows_read_back_as_a_core_insert_writes_them(engine: Engine) -> None:
    now = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    debtors = Debtor.__table__
    accounts = Account.__table__
    with engine.begin() as conn:
        conn.execute(
            insert(debtors),
            [{"external_id": "CORE", "first_name": "A", "last_name": "B", "created_at": now}],
        )
        insert_rows(
            conn,
            debtors,
            [
                {"external_id": "BULK1", "first_name": "Ana", "last_name": "Lopez"},
                {"external_id": "BULK2", "first_name": "Luis", "last_name": "Díaz"},
            ],
            {"created_at": now},
        )
        ids = dict(conn.execute(select(debtors.c.external_id, debtors.c.id)).all())
        insert_rows(
            conn,
            accounts,
            [
                {
                    "external_id": "A1",
                    "debtor_id": ids["BULK1"],
                    "creditor": "Lakeshore",
                    "account_number": "1",
                    "balance": Decimal("1250.10"),
                    "itemization": {"date": "2024-06-30", "amount": "1250.10"},
                    "tags": ["hardship"],
                    "state": "ID",
                    "created_at": now,
                }
            ],
        )
    with engine.connect() as conn:
        rows = conn.execute(
            select(debtors.c.external_id, debtors.c.language, debtors.c.inconvenient_times)
            .add_columns(debtors.c.created_at)
            .order_by(debtors.c.id)
        ).all()
        account = conn.execute(select(accounts)).mappings().one()
    assert [tuple(r) for r in rows] == [
        ("CORE", "en", [], now),
        ("BULK1", "en", [], now),
        ("BULK2", "en", [], now),
    ]
    assert (account["status"], account["days_past_due"], account["time_barred"]) == (
        "open",
        0,
        False,
    )
    assert account["balance"] == Decimal("1250.10")
    assert account["itemization"] == {"date": "2024-06-30", "amount": "1250.10"}
    assert (account["tags"], account["created_at"], account["due_date"]) == (
        ["hardship"],
        now,
        None,
    )
