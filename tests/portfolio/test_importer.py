from __future__ import annotations

import csv
import re
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from outreach.clock import SimulatedClock
from outreach.db.engine import session_factory
from outreach.db.models import Account, ContactPoint, Debtor, Hold, ImportRun, InboundMessage
from outreach.portfolio import importer
from outreach.portfolio.columns import COLUMNS
from outreach.portfolio.importer import import_csv
from outreach.portfolio.report import ImportFileError, RowError
from tests.conftest import CONFIG_DIR

SAMPLE = CONFIG_DIR / "sample" / "portfolio.csv"
# The six rows scripts/make_sample_portfolio.py plants on purpose.
SAMPLE_BAD = [
    (122, "phone1"),
    (147, "state"),
    (172, "balance"),
    (197, "itemization_date"),
    (222, "last_name"),
    (246, "hold"),
]


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    """The migrated schema on SQLite, or on PostgreSQL with OUTREACH_TEST_DATABASE_URL."""
    return session_factory(engine)


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2025, 3, 3, 15, 0, tzinfo=UTC))


def row(**overrides: str) -> dict[str, str]:
    base = {
        "debtor_id": "D1",
        "first_name": "Ana",
        "last_name": "Lopez",
        "account_id": "A1",
        "creditor": "Lakeshore National Bank",
        "account_number": "4417001234",
        "balance": "1,250.00",
        "itemization_date": "2024-06-30",
        "itemization_amount": "1200.00",
        "interest": "80.00",
        "fees": "20.00",
        "payments": "50.00",
        "credits": "0",
        "days_past_due": "120",
        "phone1": "(208) 345-1234",
        "phone1_type": "mobile",
        "phone1_consent": "granted",
        "email": "Ana.Lopez@Example.com",
        "email_type": "personal",
        "address1": "12 Oak St",
        "city": "Boise",
        "state": "id",
        "zip": "83702",
    }
    return base | overrides


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    columns = columns or list(COLUMNS)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, columns, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def count(factory: sessionmaker[Session], model: Any) -> int:
    with factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def snapshot(factory: sessionmaker[Session]) -> dict[str, int]:
    return {m.__name__: count(factory, m) for m in (Debtor, Account, ContactPoint, Hold)}


def test_sample_imports_with_only_the_planted_bad_rows_rejected(
    factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    progress: list[int] = []
    report = import_csv(factory, SAMPLE, clock=clock, progress=progress.append)

    assert [(e.line, e.field) for e in report.rejected] == SAMPLE_BAD
    assert report.rows == 247
    assert report.created == report.rows - len(SAMPLE_BAD)
    assert (report.updated, report.unchanged) == (0, 0)
    assert progress[-1] == report.rows
    assert count(factory, Debtor) == 224
    assert count(factory, Account) == 241
    with factory() as s:
        phones = s.scalars(select(ContactPoint.value).where(ContactPoint.kind == "phone")).all()
        emails = s.scalars(select(ContactPoint.value).where(ContactPoint.kind == "email")).all()
        states = s.scalars(select(Account.state).distinct()).all()
        holds = s.execute(select(Hold.kind, Hold.account_id)).all()
        run = s.scalars(select(ImportRun)).one()
    assert len(phones) > 200 and all(re.fullmatch(r"\+1[2-9]\d{9}", p) for p in phones)
    assert {"+1208", "+1850", "+1270", "+1541", "+1605", "+1915", "+1808", "+1907"} <= {
        p[:5] for p in phones
    }
    assert emails and all(e == e.lower() for e in emails)
    assert len(states) >= 31 and "DC" in states
    assert {k for k, _ in holds} == {"cease", "attorney", "bankruptcy", "dispute", "deceased"}
    assert all(acc is not None for k, acc in holds if k == "dispute")
    assert run.rows == 247 and run.rejected == 6
    assert run.errors[0].startswith("line 122: phone1: ")


def test_reimporting_the_same_file_changes_nothing(
    factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    first = import_csv(factory, SAMPLE, clock=clock)
    before = snapshot(factory)
    clock.set(datetime(2025, 3, 4, tzinfo=UTC))
    again = import_csv(factory, SAMPLE, clock=clock)
    assert (again.created, again.updated) == (0, 0)
    assert again.unchanged == first.created
    assert again.rejected == first.rejected
    assert snapshot(factory) == before
    assert count(factory, ImportRun) == 2


def test_changed_row_updates_balance_and_adds_a_phone(
    factory: sessionmaker[Session], clock: SimulatedClock, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "p.csv", [row(), row(debtor_id="D2", account_id="A2")])
    assert import_csv(factory, path, clock=clock).created == 2
    changed = row(
        balance="1300.00", interest="130.00", phone2="+1 (850) 432-1234", phone2_type="home"
    )
    write_csv(path, [changed, row(debtor_id="D2", account_id="A2")])
    report = import_csv(factory, path, clock=clock)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    with factory() as s:
        account = s.scalars(select(Account).where(Account.external_id == "A1")).one()
        assert account.balance == Decimal("1300.00")
        assert account.itemization["interest"] == "130.00"
        points = s.execute(
            select(ContactPoint.kind, ContactPoint.value, ContactPoint.label, ContactPoint.source)
            .join(Debtor)
            .where(Debtor.external_id == "D1")
            .order_by(ContactPoint.id)
        ).all()
    assert [tuple(p) for p in points] == [
        ("phone", "+12083451234", "mobile", "import:p.csv:2"),
        ("email", "ana.lopez@example.com", "personal", "import:p.csv:2"),
        ("address", "12 Oak St, Boise, ID 83702", None, "import:p.csv:2"),
        ("phone", "+18504321234", "home", "import:p.csv:2"),
    ]


def test_holds_are_added_once_and_revoked_consent_sticks(
    factory: sessionmaker[Session], clock: SimulatedClock, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "p.csv",
        [
            row(hold="cease", phone1_consent="revoked"),
            row(account_id="A2", hold="dispute"),  # same debtor, second account
        ],
    )
    import_csv(factory, path, clock=clock)
    write_csv(path, [row(hold="cease", phone1_consent="granted"), row(account_id="A2")])
    report = import_csv(factory, path, clock=clock)
    assert (report.updated, report.unchanged) == (0, 2)
    with factory() as s:
        holds = s.execute(select(Hold.kind, Hold.account_id).order_by(Hold.id)).all()
        phone = s.scalars(select(ContactPoint).where(ContactPoint.kind == "phone")).one()
    assert [(k, acc is None) for k, acc in holds] == [("cease", True), ("dispute", False)]
    assert phone.consent == "revoked" and phone.opted_out_at is not None


@pytest.mark.parametrize(
    ("replies", "opted_out"),
    [(["opt_out"], True), (["opt_out", "opt_in"], False), (["opt_in", "opt_out"], True)],
)
def test_a_number_that_texted_stop_before_it_was_imported_starts_opted_out(
    factory: sessionmaker[Session],
    clock: SimulatedClock,
    tmp_path: Path,
    replies: list[str],
    opted_out: bool,
) -> None:
    """A STOP from a number outside the portfolio is remembered: importing it later must
    not make it textable again (only a later START does)."""
    with factory.begin() as s:
        for i, intent in enumerate(replies):
            s.add(
                InboundMessage(
                    channel="sms",
                    provider_id=f"SM{i}",
                    from_address="+12083451234",
                    body=intent,
                    intent=intent,
                    received_at=clock.now().replace(hour=10 + i),
                )
            )
    import_csv(factory, write_csv(tmp_path / "p.csv", [row(phone1_consent="granted")]), clock=clock)
    with factory() as s:
        phone = s.scalars(select(ContactPoint).where(ContactPoint.kind == "phone")).one()
    assert (phone.opted_out_at is not None, phone.consent == "revoked") == (opted_out, opted_out)


def test_missing_required_column_fails_before_anything_is_written(
    factory: sessionmaker[Session], clock: SimulatedClock, tmp_path: Path
) -> None:
    columns = [c for c in COLUMNS if c != "balance"] + ["balanse"]
    path = write_csv(tmp_path / "p.csv", [row(balanse="1.00")], columns)
    with pytest.raises(ImportFileError) as err:
        import_csv(factory, path, clock=clock)
    assert err.value.path == path
    assert "missing required columns: balance" in err.value.reason
    assert "'balanse' (did you mean 'balance'?)" in err.value.reason
    assert snapshot(factory) == dict.fromkeys(("Debtor", "Account", "ContactPoint", "Hold"), 0)
    assert count(factory, ImportRun) == 0


def test_a_100000_column_header_is_refused_at_once_naming_its_line(
    factory: sessionmaker[Session], clock: SimulatedClock, tmp_path: Path
) -> None:
    """Counting duplicates and suggesting names per column took minutes of CPU on such a
    header; it is refused on its width before any of that."""
    columns = [*COLUMNS, *(["debtor_id"] * 50_000), *(f"x{i}" for i in range(50_000))]
    path = tmp_path / "wide.csv"
    path.write_text("\n" + ",".join(columns) + "\n" + ",".join(["1"] * len(columns)) + "\n")
    started = time.perf_counter()
    with pytest.raises(ImportFileError) as err:
        import_csv(factory, path, clock=clock)
    assert time.perf_counter() - started < 5
    assert err.value.reason == (
        "line 2: the header has 100,037 columns, more than the 111 read"
        " (a portfolio file has 37 at most)"
    )
    assert count(factory, ImportRun) == 0


def test_an_over_long_header_is_refused_naming_its_line(
    factory: sessionmaker[Session], clock: SimulatedClock, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "p.csv", [row()], [*COLUMNS[:-1], "x" * 100_000])
    with pytest.raises(ImportFileError, match=r"p.csv: line 1: the header is 100,\d{3} characters"):
        import_csv(factory, path, clock=clock)


def test_a_header_with_many_unknown_columns_names_the_first_ten(
    factory: sessionmaker[Session], clock: SimulatedClock, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "p.csv", [row()], [*COLUMNS, *(f"extra{i}" for i in range(30))])
    with pytest.raises(ImportFileError) as err:
        import_csv(factory, path, clock=clock)
    assert err.value.reason.startswith("bad header: unknown columns: 'extra0', 'extra1'")
    assert err.value.reason.endswith("'extra9', and 20 more")


def test_line_numbers_count_newlines_inside_quoted_fields(
    factory: sessionmaker[Session], clock: SimulatedClock, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "p.csv",
        [
            row(address1="12 Oak St\nRear entrance\n(blue door)"),  # lines 2-4
            row(debtor_id="D2", account_id="A2", zip="8370"),  # line 5
        ],
    )
    with path.open("a", encoding="utf-8") as fh:
        fh.write("\n\n")  # blank lines 6-7 are skipped, not rows
        csv.writer(fh, lineterminator="\n").writerow(
            [
                row(debtor_id="D3", account_id="A3", email="x@@example.com").get(c, "")
                for c in COLUMNS
            ]
        )
    report = import_csv(factory, path, clock=clock)
    assert report.rows == 3
    with factory() as s:
        address = s.scalars(select(ContactPoint.value).where(ContactPoint.kind == "address"))
        assert address.all() == ["12 Oak St Rear entrance (blue door), Boise, ID 83702"]
    assert report.rejected == [
        RowError(5, "zip", "'8370' is not a 5- or 9-digit ZIP code (leading zero lost?)", "A2"),
        RowError(8, "email", "'**********.com' is not an email address", "A3"),
    ]


def test_non_utf8_file_is_refused(
    factory: sessionmaker[Session], clock: SimulatedClock, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "p.csv", [row()])
    path.write_bytes(path.read_bytes() + "D2,Jos\u00e9".encode("latin-1") + b"\n")
    with pytest.raises(ImportFileError, match=r"not UTF-8 text: byte 0xe9 on line 3"):
        import_csv(factory, path, clock=clock)
    assert count(factory, Debtor) == 0


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no such file"),
        (b"", "empty file: a header row is required"),
        (b"D1,Ana,Lopez\n", "no header row"),
    ],
)
def test_unusable_files(
    factory: sessionmaker[Session],
    clock: SimulatedClock,
    tmp_path: Path,
    content: bytes | None,
    reason: str,
) -> None:
    path = tmp_path / "p.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ImportFileError, match=reason):
        import_csv(factory, path, clock=clock)


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"phone1": "208-345-123"}, "phone1", "not a valid phone number (too short)"),
        ({"phone1": "call me"}, "phone1", "cannot be read as a phone number"),
        ({"phone1_type": "pager"}, "phone1_type", "not one of mobile, home, work"),
        ({"email": "ana@example"}, "email", "not an email address"),
        ({"state": "XX"}, "state", "not a US state"),
        ({"zip": "837021"}, "zip", "not a 5- or 9-digit ZIP"),
        ({"balance": "12.345"}, "balance", "fractions of a cent"),
        ({"balance": "1200.00"}, "balance", "does not equal itemization_amount"),
        ({"itemization_date": "30/06/2024"}, "itemization_date", "not a date"),
        ({"days_past_due": "-3"}, "days_past_due", "not a whole number"),
        ({"timezone": "America/Bois"}, "timezone", "not an IANA time zone"),
        ({"time_barred": "maybe"}, "time_barred", "not yes/no"),
        ({"hold_scope": "account"}, "hold_scope", "given without a hold"),
        ({"first_name": " "}, "first_name", "required"),
    ],
)
def test_bad_cells_are_reported_by_field(
    factory: sessionmaker[Session],
    clock: SimulatedClock,
    tmp_path: Path,
    overrides: dict[str, str],
    field: str,
    reason: str,
) -> None:
    path = write_csv(tmp_path / "p.csv", [row(debtor_id="D0", account_id="A0"), row(**overrides)])
    report = import_csv(factory, path, clock=clock)
    assert report.created == 1
    [error] = report.rejected
    assert (error.line, error.field, error.external_id) == (3, field, "A1")
    assert reason in error.reason


def test_cells_are_normalized(
    factory: sessionmaker[Session], clock: SimulatedClock, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "p.csv",
        [
            row(
                timezone="America/Los_Angeles",
                language="ES-mx",
                zip="837021234",
                itemization_date="06/30/2024",
                time_barred="Yes",
                tags="Hardship; medical;hardship",
                phone1="+1 208.664.1234",
            )
        ],
    )
    assert import_csv(factory, path, clock=clock).created == 1
    with factory() as s:
        debtor = s.scalars(select(Debtor)).one()
        account = s.scalars(select(Account)).one()
        values = set(s.scalars(select(ContactPoint.value)))
        address = s.scalars(select(ContactPoint.address).where(ContactPoint.kind == "address"))
    assert (debtor.language, debtor.stated_timezone) == ("es-MX", "America/Los_Angeles")
    assert account.state == "ID" and account.time_barred is True
    assert account.tags == ["hardship", "medical"]
    assert account.itemization == {
        "date": "2024-06-30",
        "amount": "1200.00",
        "interest": "80.00",
        "fees": "20.00",
        "payments": "50.00",
        "credits": "0.00",
    }
    assert "+12086641234" in values
    assert address.one() == {
        "line1": "12 Oak St",
        "line2": "",
        "city": "Boise",
        "state": "ID",
        "zip": "83702-1234",
    }


def test_conflicting_rows_for_one_debtor_or_account_are_rejected(
    factory: sessionmaker[Session], clock: SimulatedClock, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "p.csv",
        [
            row(),
            row(account_id="A2", last_name="Lopes"),  # same debtor, another name
            row(debtor_id="D2"),  # the same account again
        ],
    )
    report = import_csv(factory, path, clock=clock)
    assert [(e.line, e.field) for e in report.rejected] == [(3, "last_name"), (4, "account_id")]
    write_csv(path, [row(debtor_id="D9")])  # an account stored under D1, now claimed by D9
    [error] = import_csv(factory, path, clock=clock).rejected
    assert (error.field, error.reason) == ("account_id", "account A1 belongs to debtor D1, not D9")


def test_a_quote_left_open_is_reported_on_its_row(
    factory: sessionmaker[Session], clock: SimulatedClock, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "p.csv", [row(balance="1250.00")])  # no other quotes
    good = path.read_text(encoding="utf-8").splitlines()[1]
    broken = good.replace("D1,Ana", 'D2,"Ana', 1).replace(",A1,", ",A2,", 1)
    closes = good.replace(",A1,", ",A3,", 1).replace("D1,Ana", 'D3,Ana"', 1)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"{broken}\n{closes}\n{good.replace(',A1,', ',A4,')}\n")
    report = import_csv(factory, path, clock=clock)
    # Line 4 is swallowed into line 3's first_name; the report says so.
    assert [(e.line, e.field) for e in report.rejected] == [(3, "first_name"), (3, "row")]
    assert report.rejected[1].reason == "spans lines 3-4: a quote left open?"
    assert (report.rows, report.created) == (3, 2)


def test_csv_syntax_errors_stop_the_file_before_any_write(
    factory: sessionmaker[Session], clock: SimulatedClock, tmp_path: Path
) -> None:
    rows = [row(debtor_id=f"D{i}", account_id=f"A{i}") for i in range(3)]
    path = write_csv(tmp_path / "p.csv", [*rows, row(address2="x" * 200_000)])
    with pytest.raises(ImportFileError, match="line 5: field larger than field limit"):
        import_csv(factory, path, clock=clock)
    assert count(factory, Debtor) == 0


def numbered(i: int, **overrides: str) -> dict[str, str]:
    """Row i of a larger file: its own debtor, account, phone and email (line i + 1)."""
    own = {
        "debtor_id": f"D{i}",
        "account_id": f"A{i}",
        "phone1": f"(208) 345-{i:04d}",
        "email": f"d{i}@example.com",
    }
    return row(**(own | overrides))


@pytest.fixture
def streamed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """1,000 rows read 50 at a time (20 transactions): a bad row in the middle, and rows
    that only conflict with (or agree with) rows several chunks before them."""
    monkeypatch.setattr(importer, "CHUNK_ROWS", 50)
    rows = [numbered(i) for i in range(1, 1001)]
    rows[499] = numbered(500, zip="8370")  # line 501
    rows[799] = numbered(800, debtor_id="D20", last_name="Lopes")  # line 801: D20 is line 21
    rows[899] = numbered(900, account_id="A10")  # line 901: account A10 is line 11
    rows[949] = numbered(950, debtor_id="D30")  # line 951: D30's second account, same name
    return write_csv(tmp_path / "big.csv", rows)


def test_a_streamed_file_reports_bad_rows_across_chunks_and_imports_the_rest(
    factory: sessionmaker[Session], clock: SimulatedClock, streamed: Path
) -> None:
    progress: list[int] = []
    report = import_csv(factory, streamed, clock=clock, progress=progress.append)
    assert [(e.line, e.field) for e in report.rejected] == [
        (501, "zip"),
        (801, "last_name"),
        (901, "account_id"),
    ]
    assert report.rejected[1].reason == "differs from line 21 for the same debtor_id D20"
    assert report.rejected[2].reason == "account A10 already on line 11"
    assert (report.rows, report.created, report.updated, report.unchanged) == (1000, 997, 0, 0)
    assert progress == list(range(50, 1001, 50))
    assert snapshot(factory) == {
        "Debtor": 996,  # 997 accounts, D30 has two
        "Account": 997,
        "ContactPoint": 996 * 3 + 2,  # phone, email, address; D30's second row adds 2
        "Hold": 0,
    }


def test_reimporting_a_streamed_file_changes_nothing_and_says_so(
    factory: sessionmaker[Session], clock: SimulatedClock, streamed: Path
) -> None:
    first = import_csv(factory, streamed, clock=clock)
    before = snapshot(factory)
    again = import_csv(factory, streamed, clock=clock)
    assert (again.created, again.updated, again.unchanged) == (0, 0, first.created)
    assert again.rejected == first.rejected
    assert snapshot(factory) == before
    with factory() as s:
        runs = s.execute(select(ImportRun.rows, ImportRun.created, ImportRun.rejected)).all()
    assert [tuple(r) for r in runs] == [(1000, 997, 3), (1000, 0, 3)]


def test_reimport_with_a_changed_contact_point_updates_only_that_row(
    factory: sessionmaker[Session], clock: SimulatedClock, streamed: Path
) -> None:
    import_csv(factory, streamed, clock=clock)
    rows = list(csv.DictReader(streamed.open(encoding="utf-8")))
    rows[699] |= {"phone1_type": "work", "phone1_consent": "revoked", "email": "new@example.com"}
    write_csv(streamed, rows)
    clock.set(datetime(2025, 3, 4, 9, 0, tzinfo=UTC))
    report = import_csv(factory, streamed, clock=clock)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 996)
    with factory() as s:
        points = s.execute(
            select(ContactPoint.kind, ContactPoint.value, ContactPoint.label)
            .add_columns(ContactPoint.consent, ContactPoint.opted_out_at)
            .join(Debtor)
            .where(Debtor.external_id == "D700")
            .order_by(ContactPoint.id)
        ).all()
    assert [tuple(p) for p in points] == [
        ("phone", "+12083450700", "work", "revoked", clock.now()),
        ("email", "d700@example.com", "personal", "unknown", None),
        ("address", "12 Oak St, Boise, ID 83702", None, "unknown", None),
        ("email", "new@example.com", "personal", "unknown", None),
    ]
