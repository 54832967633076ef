"""Write config/sample/portfolio.csv: a realistic, deterministic demo portfolio.

Every run gives the same file (random.Random(42), a fixed as-of date). Addresses use
real ZIP codes of their state (the `zipcodes` package) and phones real area codes
with exchanges in the ZIP's own time zone, so the compliance rules meet the awkward
cases: split-zone area codes (208, 850, 270, 541, 605, 915), Hawaii, Alaska, debtors
who moved (phone from another state), stated time zones. Six rows near the end are
deliberately bad; the import must reject exactly those.

    .venv/bin/python scripts/make_sample_portfolio.py [OUT.csv]
"""

from __future__ import annotations

import csv
import math
import random
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
import us
import zipcodes
from phonenumbers import geocoder
from phonenumbers import timezone as phone_tz

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "config" / "sample" / "portfolio.csv"
AS_OF = date(2025, 3, 3)
GOOD_DEBTORS = 224

COLUMNS = [
    "debtor_id", "first_name", "last_name", "language", "timezone",
    "account_id", "creditor", "original_creditor", "account_number", "balance",
    "itemization_date", "itemization_amount", "interest", "fees", "payments", "credits",
    "due_date", "days_past_due", "account_state", "time_barred", "tags",
    "phone1", "phone1_type", "phone1_consent", "phone2", "phone2_type", "phone2_consent",
    "email", "email_type", "email_consent",
    "address1", "address2", "city", "state", "zip", "hold", "hold_scope",
]  # fmt: skip

# Rough population weights; every state and DC appears at least once.
STATE_WEIGHTS = {
    "CA": 12, "TX": 9, "FL": 7, "NY": 6, "PA": 4, "IL": 4, "OH": 4, "GA": 3, "NC": 3,
    "MI": 3, "NJ": 3, "VA": 3, "WA": 2, "AZ": 2, "MA": 2, "TN": 2, "IN": 2, "MO": 2,
    "MD": 2, "WI": 2, "CO": 2, "MN": 2, "SC": 2, "AL": 2, "LA": 2, "KY": 1, "OR": 1,
    "OK": 1, "CT": 1, "UT": 1, "IA": 1, "NV": 1, "AR": 1, "MS": 1, "KS": 1, "NM": 1,
    "NE": 1, "ID": 1, "WV": 1, "HI": 1, "NH": 1, "ME": 1, "MT": 1, "RI": 1, "DE": 1,
    "SD": 1, "ND": 1, "AK": 1, "DC": 1, "VT": 1, "WY": 1,
}  # fmt: skip

# (state, ZIP time zone or None for any, area code, how many debtors)
SPLIT_ZONE_CASES = [
    ("ID", "America/Boise", "208", 3),  # Boise: Mountain
    ("ID", "America/Los_Angeles", "208", 3),  # Coeur d'Alene, Lewiston: Pacific
    ("FL", "America/Chicago", "850", 3),  # Pensacola, Panama City: Central
    ("FL", "America/New_York", "850", 3),  # Tallahassee: Eastern
    ("KY", "America/Chicago", "270", 3),  # Bowling Green, Paducah: Central
    ("OR", "America/Los_Angeles", "541", 2),  # Bend, Eugene: Pacific
    ("OR", "America/Boise", "541", 2),  # Ontario (Malheur County): Mountain
    ("SD", "America/Chicago", "605", 2),  # Sioux Falls: Central
    ("SD", "America/Denver", "605", 2),  # Rapid City: Mountain
    ("TX", "America/Denver", "915", 3),  # El Paso: Mountain
    ("HI", None, "808", 3),
    ("AK", None, "907", 3),
]

FIRST = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Christopher", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony",
    "Betty", "Mark", "Sandra", "Donald", "Ashley", "Steven", "Kimberly", "Andrew", "Emily",
    "Kenneth", "Donna", "Joshua", "Michelle", "Kevin", "Carol", "Brian", "Amanda", "Tyrone",
    "Latoya", "DeShawn", "Keisha", "Wei", "Mei", "Minh", "Linh", "Priya", "Raj", "Aiyana",
    "Kalani", "Noelani", "Sven", "Ingrid", "Dmitri", "Olga", "Fatima", "Omar", "Connor",
    "Siobhan",
]  # fmt: skip
HISPANIC_FIRST = [
    "José", "María", "Juan", "Guadalupe", "Luis", "Rosa", "Carlos", "Ana", "Jesús", "Carmen",
    "Miguel", "Lucía", "Alejandro", "Sofía",
]  # fmt: skip
LAST = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
    "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris",
    "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter",
    "Phillips", "Evans", "Turner", "Parker", "Collins", "Edwards", "Stewart", "Morris",
    "Nguyen", "Tran", "Chen", "Wang", "Patel", "Kim", "O'Brien", "McCarthy", "Kowalski",
    "Johansson", "Kahananui", "Begay", "Yazzie", "Washington", "St. John", "Van der Berg",
    "Smith-Jones",
]  # fmt: skip
HISPANIC_LAST = [
    "Garcia", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Perez", "Sanchez",
    "Ramirez", "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Muñoz",
]  # fmt: skip
STREETS = [
    "Main", "Oak", "Pine", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park",
    "Walnut", "Sunset", "Highland", "Ridge", "River", "Church", "Mill", "Spring", "Jefferson",
    "Lincoln", "Franklin", "Meadow", "Forest", "Willow", "Chestnut", "Dogwood", "Magnolia",
]  # fmt: skip
SUFFIXES = ["St", "Ave", "Rd", "Dr", "Ln", "Ct", "Blvd", "Way", "Pl", "Cir"]

# (creditor, original creditor or None, category)
CREDITORS = [
    ("First Keystone Bank, N.A.", None, "bank"),
    ("Lakeshore National Bank", None, "bank"),
    ("Pioneer Federal Credit Union", None, "bank"),
    ("Redwood Card Services", None, "bank"),
    ("Summit Ridge Medical Center", None, "medical"),
    ("St. Anne's Regional Hospital", None, "medical"),
    ("Valley Emergency Physicians", None, "medical"),
    ("Bright Smile Dental Group", None, "medical"),
    ("Prairie Electric Cooperative", None, "utility"),
    ("Tri-County Gas & Water", None, "utility"),
    ("Cascade Wireless", None, "telecom"),
    ("NorthStar Cable & Internet", None, "telecom"),
    ("Meridian Portfolio Recovery LLC", "Lakeshore National Bank", "buyer"),
    ("Meridian Portfolio Recovery LLC", "Redwood Card Services", "buyer"),
    ("Harbor Point Receivables, LLC", "Cascade Wireless", "buyer"),
    ("Harbor Point Receivables, LLC", "Summit Ridge Medical Center", "buyer"),
    ("Atlas Consumer Funding", "First Keystone Bank, N.A.", "buyer"),
    ("Atlas Consumer Funding", "Silver State Auto Finance", "buyer"),
]
EMAIL_DOMAINS = ["example.com", "example.org", "mail.example.net"]
HOLDS = ["cease", "attorney", "bankruptcy", "dispute", "deceased"]


@cache
def zip_pool() -> dict[str, list[dict[str, Any]]]:
    pool: dict[str, list[dict[str, Any]]] = {}
    for z in zipcodes.list_all():
        if z["active"] and z["zip_code_type"] == "STANDARD" and z["area_codes"]:
            pool.setdefault(z["state"], []).append(z)
    for zips in pool.values():
        zips.sort(key=lambda z: z["zip_code"])
    return pool


def offsets(zone: str) -> tuple[timedelta | None, timedelta | None]:
    """A zone's UTC offsets in winter and summer: its identity for calling hours."""
    tz = ZoneInfo(zone)
    return (
        datetime(2025, 1, 15, 12, tzinfo=tz).utcoffset(),
        datetime(2025, 7, 15, 12, tzinfo=tz).utcoffset(),
    )


@cache
def exchanges(area: str) -> dict[tuple[Any, ...], list[int]]:
    """Valid exchanges of an area code, grouped by the time zones phonenumbers gives them."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for nxx in range(200, 1000):
        if nxx % 100 == 11 or nxx == 555:  # N11 service codes, 555 directory
            continue
        number = phonenumbers.parse(f"+1{area}{nxx}2345")
        if phonenumbers.is_valid_number(number):
            zones = tuple(sorted({offsets(z) for z in phone_tz.time_zones_for_number(number)}))
            groups.setdefault(zones, []).append(nxx)
    return groups


@cache
def area_in_state(area: str, state: str) -> bool:
    """True when phonenumbers places most of the area code's exchanges in `state`.

    The zipcodes data lists neighbouring states' codes too (a Delaware ZIP with 667).
    """
    found = us.states.lookup(state)
    name = "Washington D.C." if found is None or state == "DC" else found.name
    places = [
        geocoder.description_for_number(phonenumbers.parse(f"+1{area}{nxx}2345"), "en")
        for group in exchanges(area).values()
        for nxx in group[:10]
    ]
    here = sum(1 for p in places if p in (name, f"{name} State") or p.endswith(f", {state}"))
    return bool(places) and here * 2 >= len(places)


def local_areas(z: dict[str, Any]) -> list[str]:
    areas = sorted(a for a in z["area_codes"] if area_in_state(a, z["state"]))
    return areas or sorted(a for a in z["area_codes"] if exchanges(a))


def make_phone(rng: random.Random, area: str, zone: str | None) -> str:
    """A valid number in `area`, with an exchange that phonenumbers puts in `zone`."""
    groups = exchanges(area)
    want = offsets(zone) if zone else None
    exact = [g for g in groups if want is not None and g == (want,)]
    containing = [g for g in groups if want is not None and want in g]
    candidates = exact or containing or sorted(groups)
    nxx = rng.choice(groups[rng.choice(sorted(candidates))])
    while True:
        line = rng.randint(1000, 9999)
        if not 100 <= line <= 199:
            number = phonenumbers.parse(f"+1{area}{nxx}{line:04d}")
            if phonenumbers.is_valid_number(number):
                return f"({area}) {nxx}-{line:04d}"


@dataclass
class Person:
    debtor_id: str
    first: str
    last: str
    language: str
    zip: dict[str, Any]


def money(value: Decimal) -> str:
    return f"{value:.2f}"


def pick_zip(rng: random.Random, state: str, zone: str | None, area: str | None) -> dict[str, Any]:
    zips = [
        z
        for z in zip_pool()[state]
        if (zone is None or z["timezone"] == zone) and (area is None or area in z["area_codes"])
    ]
    return rng.choice(zips)


def account_rows(
    rng: random.Random, n: int, person: Person, state: str, seq: list[int]
) -> list[dict[str, str]]:
    rows = []
    for _ in range(n):
        seq[0] += 1
        creditor, original, category = rng.choice(CREDITORS)
        balance = Decimal(round(math.exp(rng.uniform(math.log(40), math.log(12000))), 2))
        balance = balance.quantize(Decimal("0.01"))
        interest = (balance * Decimal(rng.uniform(0, 0.18))).quantize(Decimal("0.01"))
        fees = Decimal(rng.choice([0, 0, 0, 25, 35, 39, 70])).quantize(Decimal("0.01"))
        if interest + fees > balance / 2:
            interest, fees = Decimal("0.00"), Decimal("0.00")
        payments = Decimal(rng.choice([0, 0, 0, 25, 50, 100, 150])).quantize(Decimal("0.01"))
        credits = Decimal(rng.choice([0] * 8 + [10, 20])).quantize(Decimal("0.01"))
        amount = balance - interest - fees + payments + credits
        dpd = rng.randint(30, 900)
        due = AS_OF - timedelta(days=dpd)
        itemized = min(due + timedelta(days=rng.choice([30, 60, 90, 180])), AS_OF)
        us_dates = rng.random() < 0.15
        fmt = "%m/%d/%Y" if us_dates else "%Y-%m-%d"
        barred = dpd > 800 and rng.random() < 0.1
        tags = []
        if category in ("medical",) or (original or "").endswith(("Center", "Hospital")):
            tags.append("medical")
        rows.append(
            {
                "account_id": f"A{seq[0]:06d}",
                "creditor": creditor,
                "original_creditor": original or "",
                "account_number": f"{rng.randint(10**9, 10**10 - 1)}",
                "balance": money(balance),
                "itemization_date": itemized.strftime(fmt),
                "itemization_amount": money(amount),
                "interest": money(interest),
                "fees": money(fees),
                "payments": money(payments),
                "credits": money(credits),
                "due_date": due.strftime(fmt) if rng.random() < 0.8 else "",
                "days_past_due": str(dpd),
                "account_state": state if rng.random() < 0.3 else "",
                "time_barred": "yes" if barred else rng.choice(["no", "", ""]),
                "tags": ";".join(tags),
            }
        )
    return rows


def debtor_rows(
    rng: random.Random,
    index: int,
    state: str,
    zone: str | None,
    area: str | None,
    seq: list[int],
    *,
    moved_from: str | None = None,
) -> list[dict[str, str]]:
    hispanic = state in ("CA", "TX", "FL", "AZ", "NM", "NV", "CO", "IL", "NY") and (
        rng.random() < 0.3
    )
    first = rng.choice(HISPANIC_FIRST if hispanic else FIRST)
    last = rng.choice(HISPANIC_LAST if hispanic else LAST)
    language = "es" if hispanic and rng.random() < 0.5 else rng.choice(["", "", "en"])
    z = pick_zip(rng, state, zone, area)
    person = Person(f"D{index:05d}", first, last, language, z)

    phone_zip = z
    if moved_from is not None:
        phone_zip = pick_zip(rng, moved_from, None, None)
    phone_area = area or rng.choice(local_areas(phone_zip))
    has_phone = rng.random() > 0.06
    phone1 = make_phone(rng, phone_area, phone_zip["timezone"]) if has_phone else ""
    consent1 = rng.choice(["granted", "granted", "unknown"]) if phone1 else ""
    phone2 = ""
    if has_phone and rng.random() < 0.3:
        phone2 = make_phone(rng, rng.choice(local_areas(z)), z["timezone"])
    email = ""
    email_type = ""
    if rng.random() > 0.2:
        work = rng.random() < 0.12
        user = f"{first[0]}.{last}" if work else f"{first}.{last}{rng.randint(1, 99)}"
        user = "".join(c for c in user.lower() if c.isascii() and (c.isalnum() or c == "."))
        email = f"{user}@{rng.choice(EMAIL_DOMAINS)}"
        if rng.random() < 0.1:
            email = email.title()  # the import lower-cases
        email_type = "work" if work else "personal"
    street = f"{rng.randint(1, 9899)} {rng.choice(STREETS)} {rng.choice(SUFFIXES)}"
    address2 = rng.choice([f"Apt {rng.randint(1, 40)}", f"Unit {rng.choice('ABCD')}"])
    zip_code = z["zip_code"]
    if rng.random() < 0.1:
        zip_code += f"-{rng.randint(1, 9999):04d}"
    base = {
        "debtor_id": person.debtor_id,
        "first_name": first,
        "last_name": last,
        "language": language,
        "timezone": "",
        "phone1": phone1,
        "phone1_type": "mobile" if phone1 else "",
        "phone1_consent": consent1,
        "phone2": phone2,
        "phone2_type": rng.choice(["home", "work"]) if phone2 else "",
        "phone2_consent": "unknown" if phone2 else "",
        "email": email,
        "email_type": email_type,
        "email_consent": rng.choice(["granted", "unknown"]) if email else "",
        "address1": street,
        "address2": address2 if rng.random() < 0.25 else "",
        "city": z["city"],
        "state": state,
        "zip": zip_code,
        "hold": "",
        "hold_scope": "",
    }
    n_accounts = 2 if rng.random() < 0.12 else 1
    return [base | acc for acc in account_rows(rng, n_accounts, person, state, seq)]


def build(rng: random.Random) -> tuple[list[dict[str, str]], list[tuple[int, str, str]]]:
    """All rows, and the deliberately bad ones as (row index, field, what was done)."""
    plan: list[tuple[str, str | None, str | None]] = []
    for case_state, case_zone, case_area, count in SPLIT_ZONE_CASES:
        plan += [(case_state, case_zone, case_area)] * count
    plan += [(s, None, None) for s in STATE_WEIGHTS if s not in {p[0] for p in plan}]
    states = list(STATE_WEIGHTS)
    weights = list(STATE_WEIGHTS.values())
    while len(plan) < GOOD_DEBTORS:
        plan.append((rng.choices(states, weights)[0], None, None))
    rng.shuffle(plan)

    seq = [0]
    debtors: list[list[dict[str, str]]] = []
    moved = set(rng.sample(range(GOOD_DEBTORS), 12))
    for i, (state, zone, area) in enumerate(plan):
        moved_from = None
        if i in moved and area is None:
            moved_from = rng.choice([s for s in states if s != state])
        debtors.append(debtor_rows(rng, i + 1, state, zone, area, seq, moved_from=moved_from))
        if moved_from is not None and rng.random() < 0.5:
            home = zipcodes.matching(debtors[-1][0]["zip"][:5])[0]["timezone"]
            for row in debtors[-1]:  # some told us the time zone they live in now
                row["timezone"] = home

    # Special cases on distinct debtors, chosen reproducibly.
    chosen = rng.sample(range(GOOD_DEBTORS), 50)
    holds = chosen[:15]
    for n, i in enumerate(holds):
        kind = HOLDS[n % len(HOLDS)]
        for j, row in enumerate(debtors[i]):
            if kind == "dispute" and j > 0:
                continue  # disputes are per account
            row["hold"] = kind
            if kind == "attorney" and n % 2:
                row["hold_scope"] = "debtor"
    for i in chosen[15:19]:  # revoked consent for texts
        for row in debtors[i]:
            if row["phone1"]:
                row["phone1_consent"] = "revoked"
    for i in chosen[19:22]:  # a consumer who told us her time zone
        for row in debtors[i]:
            row["timezone"] = rng.choice(["America/Chicago", "America/Denver", "America/Phoenix"])
    for i in rng.sample(range(GOOD_DEBTORS), GOOD_DEBTORS // 10):
        for row in debtors[i]:
            row["tags"] = ";".join(t for t in ("hardship", row["tags"]) if t)
    for i in chosen[22:25]:
        for row in debtors[i]:
            row["time_barred"] = "yes"
            row["days_past_due"] = str(rng.randint(760, 900))

    rows = [row for d in debtors for row in d]
    bad = [
        ("phone1", "(212) 123-4567"),  # an exchange cannot start with 1
        ("state", "TE"),
        ("balance", "-125.00"),
        ("itemization_date", "2024-02-30"),
        ("last_name", ""),
        ("hold", "litigation"),
    ]
    positions = [len(rows) * k // 10 for k in (5, 6, 7, 8, 9)] + [len(rows) - 2]
    planted: list[tuple[int, str, str]] = []
    for k, ((column, value), pos) in enumerate(zip(bad, positions, strict=True)):
        row = debtor_rows(rng, 900 + k, "OH", None, None, seq)[0]
        row[column] = value
        if column == "phone1":
            row["phone1_type"], row["phone1_consent"] = "mobile", "granted"
        # Keep a debtor's accounts together: move past a second row of the same debtor.
        while (
            0 < pos + k < len(rows) and rows[pos + k]["debtor_id"] == rows[pos + k - 1]["debtor_id"]
        ):
            pos += 1
        rows.insert(pos + k, row)
        planted.append((pos + k, column, value))
    return rows, planted


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else OUT
    rows, planted = build(random.Random(42))
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    debtors = len({r["debtor_id"] for r in rows})
    states = len({r["state"] for r in rows})
    print(f"wrote {out}: {len(rows)} rows, {debtors} debtors, {states} states")
    for k, column, value in planted:
        print(f"  bad row on line {k + 2}: {column} = {value!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
