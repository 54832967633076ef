"""`outreach check` and `outreach import`: exit codes, the check's messages, the import report."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from sqlalchemy import text

from outreach.db.engine import make_engine, upgrade
from tests.cli.conftest import invoke


def revision(db_url: str) -> str | None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def test_migrate_creates_the_schema_then_says_it_is_current(config_dir: Path, db_url: str) -> None:
    code, out, _ = invoke(config_dir, "migrate")
    assert code == 0 and out.strip().endswith(": migrated from no schema to 0007")
    assert revision(db_url) == "0007"
    code, out, _ = invoke(config_dir, "migrate")
    assert code == 0 and out.strip().endswith(": already at revision 0007, the newest")


def test_migrate_brings_an_older_schema_forward(config_dir: Path, db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine, "0004")
    engine.dispose()
    code, out, _ = invoke(config_dir, "migrate")
    assert code == 0 and out.strip().endswith(": migrated from 0004 to 0007")
    assert revision(db_url) == "0007"
    assert invoke(config_dir, "log")[0] == 0


def test_init_creates_the_schema_of_a_fresh_database_and_says_so(
    config_dir: Path, db_url: str
) -> None:
    code, out, _ = invoke(config_dir, "init")
    assert code == 0 and "Created the outreach schema (revision 0007) in " in out
    code, out, _ = invoke(config_dir, "init")
    assert code == 0 and "Database ready: " in out and "(revision 0007)" in out


def test_init_leaves_an_older_schema_to_migrate(config_dir: Path, db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine, "0004")
    engine.dispose()
    code, _, err = invoke(config_dir, "init")
    assert code == 1 and "run `outreach migrate`" in err
    assert revision(db_url) == "0004"


def test_check_passes_on_the_shipped_config(config_dir: Path) -> None:
    code, out, _ = invoke(config_dir, "check")
    assert code == 0, out
    assert "2 campaigns" in out and "11 replies (en, es) render" in out


def test_check_renders_every_reply_in_every_language(config_dir: Path) -> None:
    """An override of a reply that fails is found by `outreach check`, not by a debtor."""
    replies = config_dir / "templates" / "sms" / "replies"
    replies.mkdir(parents=True)
    (replies / "dispute.txt").write_text("{{ agency.name }}: {{ agency.nmae }} recorded.")
    (replies / "help.es.txt").write_text("{{ agency.name }}: {% if frequency %}Ayuda.")
    code, out, err = invoke(config_dir, "check")
    assert code == 2, out
    assert "sms/replies/dispute.txt: UndefinedError: " in err and "nmae" in err
    assert "(reply 'dispute', language en)" in err  # Spanish has its own dispute.es.txt
    assert "sms/replies/help.es.txt, line 1: " in err and "(reply 'help', language es)" in err
    assert len(err.strip().splitlines()) == 2


def test_check_names_a_missing_template_and_exits_2(config_dir: Path) -> None:
    path = config_dir / "campaigns" / "standard.yaml"
    path.write_text(path.read_text().replace("sms/reminder", "sms/remindr"))
    code, _, err = invoke(config_dir, "check")
    assert code == 2
    assert "standard.yaml: steps.first-sms.template: no template 'sms/remindr'" in err


def test_bad_campaign_file_exits_2_naming_file_and_field(config_dir: Path) -> None:
    path = config_dir / "campaigns" / "standard.yaml"
    path.write_text(path.read_text().replace("channel: sms", "channel: pager", 1))
    code, _, err = invoke(config_dir, "check")
    assert code == 2
    assert "standard.yaml:" in err and "steps[2].channel" in err


def test_import_reports_bad_rows_with_lines_and_is_idempotent(config_dir: Path) -> None:
    assert invoke(config_dir, "migrate")[0] == 0
    sample = str(config_dir / "sample" / "portfolio.csv")
    code, out, _ = invoke(config_dir, "import", sample, "--json")
    assert code == 0
    first = json.loads(out)
    assert first["created"] > 200
    assert {e["line"] for e in first["rejected"]} and all(e["reason"] for e in first["rejected"])
    code, out, _ = invoke(config_dir, "import", sample, "--json")
    again = json.loads(out)
    assert again["created"] == 0 and again["updated"] == 0
    assert again["rejected"] == first["rejected"]


def test_import_of_a_missing_file_exits_2(config_dir: Path) -> None:
    assert invoke(config_dir, "migrate")[0] == 0
    code, _, err = invoke(config_dir, "import", "nope.csv")
    assert code == 2 and "nope.csv" in err


def test_import_errors_show_a_rejected_phone_or_email_masked_with_line_and_field(
    config_dir: Path, tmp_path: Path
) -> None:
    """Like every contact value outreach prints: the last 4 characters only."""
    assert invoke(config_dir, "migrate")[0] == 0
    with (config_dir / "sample" / "portfolio.csv").open(newline="") as fh:
        header, first, second = list(csv.reader(fh))[:3]
    first[header.index("phone1")] = "(302) 445-36629"
    first[header.index("email")] = "michael.young@@example.org"
    second[header.index("phone2")] = "+999 727 470 3925"
    path = tmp_path / "bad.csv"
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows([header, first, second])
    code, out, err = invoke(config_dir, "import", str(path))
    assert code == 0 and "2 rows rejected" in out
    assert err.splitlines() == [
        f"{path}:2: phone1: '***********6629' is not a valid phone number (too long)",
        f"{path}:2: email: '**********************.org' is not an email address",
        f"{path}:3: phone2: '*************3925' cannot be read as a phone number:"
        " Could not interpret numbers after plus-sign.",
    ]
    code, out, _ = invoke(config_dir, "import", str(path), "--json")
    for secret in ("445-3662", "michael.young", "727 470"):
        assert secret not in out
