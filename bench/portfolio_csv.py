"""A synthetic portfolio CSV in the import format (outreach.portfolio.columns), for the import
and scale benches: N rows, about 1.25 accounts per debtor, phones in real area codes, most
rows with an email, a few holds and tags; optionally one bad row every `bad_every` rows.

Deterministic (the same N gives the same file) and fast: 1,000,000 rows in a few seconds.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from itertools import islice
from pathlib import Path

from sqlalchemy import Engine, insert

from outreach.db.types import Base
from outreach.portfolio.columns import COLUMNS

# (area code, state, ZIP, city): real area codes in their state, so the zones are realistic.
AREAS = [
    ("212", "NY", "10118", "New York"),
    ("312", "IL", "60601", "Chicago"),
    ("303", "CO", "80202", "Denver"),
    ("213", "CA", "90012", "Los Angeles"),
    ("808", "HI", "96813", "Honolulu"),
    ("907", "AK", "99501", "Anchorage"),
    ("208", "ID", "83702", "Boise"),
    ("850", "FL", "32301", "Tallahassee"),
    ("512", "TX", "78701", "Austin"),
    ("206", "WA", "98101", "Seattle"),
]
FIRST = ["Ana", "Michael", "Andrew", "Maria", "James", "Linh", "Fatima", "Olga", "Kwame", "Sofia"]
LAST = ["Lopez", "Young", "Wright", "Nguyen", "Smith", "Okafor", "Kowalski", "Garcia", "Kim"]
CREDITORS = ["Lakeshore National Bank", "Harbor Point Receivables, LLC", "Summit Ridge Medical"]
HOLDS = ["cease", "attorney", "bankruptcy", "deceased", "dispute"]


def debtors_for(rows: int) -> int:
    """How many debtors `rows` rows describe (every fourth debtor has a second account)."""
    return rows - rows // 5


def records(n: int, *, bad_every: int = 0) -> Iterator[dict[str, str]]:
    """The file's N data rows as dicts; row k (1-based) is bad when bad_every divides k."""
    k = 0
    d = 0
    while k < n:
        d += 1
        area, state, zip_, city = AREAS[d % len(AREAS)]
        accounts = 2 if d % 4 == 0 else 1
        debtor = {
            "debtor_id": f"D{d:08d}",
            "first_name": FIRST[d % len(FIRST)],
            "last_name": LAST[(d // 7) % len(LAST)],
            "language": "es" if d % 9 == 0 else "en",
            "timezone": "America/Chicago" if d % 31 == 0 else "",
            "phone1": f"({area}) {200 + d % 800:03d}-{d % 10_000:04d}",
            "phone1_type": "mobile",
            "phone1_consent": "granted" if d % 3 else "unknown",
            "phone2": f"+1 {area} 5{d % 100:02d} {(d * 7) % 10_000:04d}" if d % 6 == 0 else "",
            "phone2_type": "home" if d % 6 == 0 else "",
            "email": f"{FIRST[d % len(FIRST)].lower()}.d{d}@example.com" if d % 5 else "",
            "email_type": "personal" if d % 5 else "",
            "email_consent": "granted" if d % 5 else "",
            "address1": f"{d % 9000 + 100} Oak St",
            "address2": f"Apt {d % 40}" if d % 3 == 0 else "",
            "city": city,
            "state": state,
            "zip": zip_,
        }
        for a in range(accounts):
            if k >= n:
                return
            k += 1
            cents = 10_000 + (d * 7919 + a * 104_729) % 500_000
            interest, fees = cents // 10, 2500 if a else 0
            row = debtor | {
                "account_id": f"A{d:08d}-{a}",
                "creditor": CREDITORS[(d + a) % len(CREDITORS)],
                "account_number": f"44{d:010d}{a}",
                "balance": f"{(cents + interest + fees) / 100:.2f}",
                "itemization_date": "2024-06-30",
                "itemization_amount": f"{cents / 100:.2f}",
                "interest": f"{interest / 100:.2f}",
                "fees": f"{fees / 100:.2f}",
                "payments": "0.00",
                "credits": "0",
                "days_past_due": str(30 + d % 900),
                "tags": "hardship" if d % 17 == 0 else "",
                "hold": HOLDS[d % len(HOLDS)] if d % 97 == 0 else "",
            }
            if bad_every and k % bad_every == 0:
                row["zip"] = "8370"  # a lost leading zero: reported, the rest imports
            yield row


def write(path: Path, n: int, *, bad_every: int = 0) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, COLUMNS, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(records(n, bad_every=bad_every))
    return path


def floor(engine: Engine, path: Path, now: datetime, chunk: int = 5000) -> int:
    """The least any importer of this file pays: read it with the csv module and insert the
    same debtor, account and contact rows with plain Core executemany (no validation, no
    lookups, no idempotence), `chunk` rows a transaction. Returns the rows read."""
    tables = {t: Base.metadata.tables[t] for t in ("debtors", "accounts", "contact_points")}
    rows = 0
    with path.open(encoding="utf-8", newline="") as fh, engine.connect() as conn:
        reader = csv.DictReader(fh)
        ids: dict[str, int] = {}
        while True:
            part = list(islice(reader, chunk))
            if not part:
                return rows
            rows += len(part)
            with conn.begin():
                new = {r["debtor_id"]: r for r in part if r["debtor_id"] not in ids}
                if new:
                    for ext, id_ in conn.execute(
                        insert(tables["debtors"]).returning(
                            tables["debtors"].c.external_id, tables["debtors"].c.id
                        ),
                        [
                            {
                                "external_id": ext,
                                "first_name": r["first_name"],
                                "last_name": r["last_name"],
                                "language": r["language"] or "en",
                                "stated_timezone": r["timezone"] or None,
                                "created_at": now,
                            }
                            for ext, r in new.items()
                        ],
                    ):
                        ids[ext] = id_
                conn.execute(
                    insert(tables["accounts"]),
                    [
                        {
                            "external_id": r["account_id"],
                            "debtor_id": ids[r["debtor_id"]],
                            "creditor": r["creditor"],
                            "original_creditor": r["original_creditor"] or None,
                            "account_number": r["account_number"],
                            "balance": Decimal(r["balance"]),
                            "itemization": {
                                "date": r["itemization_date"],
                                "amount": r["itemization_amount"],
                                "interest": r["interest"],
                                "fees": r["fees"],
                                "payments": r["payments"],
                                "credits": r["credits"],
                            },
                            "due_date": None,
                            "days_past_due": int(r["days_past_due"]),
                            "state": r["state"],
                            "time_barred": False,
                            "tags": [t for t in r["tags"].split(";") if t],
                            "created_at": now,
                        }
                        for r in part
                    ],
                )
                points = []
                for r in new.values():
                    base = {"debtor_id": ids[r["debtor_id"]], "source": "floor", "created_at": now}
                    for kind, value, label, consent in (
                        ("phone", r["phone1"], r["phone1_type"], r["phone1_consent"]),
                        ("phone", r["phone2"], r["phone2_type"], r["phone2_consent"]),
                        ("email", r["email"], r["email_type"], r["email_consent"]),
                    ):
                        if value:
                            points.append(
                                base
                                | {
                                    "kind": kind,
                                    "value": value,
                                    "label": label or None,
                                    "address": None,
                                    "consent": consent or "unknown",
                                }
                            )
                    address = {k: r[k] for k in ("address1", "address2", "city", "state", "zip")}
                    points.append(
                        base
                        | {
                            "kind": "address",
                            "value": ", ".join(v for v in address.values() if v),
                            "label": None,
                            "address": address,
                            "consent": "unknown",
                        }
                    )
                conn.execute(insert(tables["contact_points"]), points)
