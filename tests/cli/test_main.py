"""The `outreach` command: exit codes, import report, check, log output, and a short demo."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from outreach.actions.contacts import set_opt_out
from outreach.actions.messages import plan_message
from outreach.cli.main import main
from tests.conftest import CONFIG_DIR


@pytest.fixture
def config_dir(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, target)
    monkeypatch.setenv("OUTREACH_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    return target


def invoke(config_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--config-dir", str(config_dir), *args])
    return result.exit_code, result.stdout, result.stderr


def test_check_passes_on_the_shipped_config(config_dir: Path) -> None:
    code, out, _ = invoke(config_dir, "check")
    assert code == 0, out
    assert "2 campaigns" in out


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
    code, _, err = invoke(config_dir, "import", "nope.csv")
    assert code == 2 and "nope.csv" in err


def test_demo_then_log_as_json_lines(config_dir: Path, tmp_path: Path) -> None:
    portfolio = tmp_path / "small.csv"
    lines = (config_dir / "sample" / "portfolio.csv").read_text().splitlines()
    portfolio.write_text("\n".join(lines[:13]) + "\n")  # the header and 12 debtors
    code, out, err = invoke(
        config_dir,
        "demo",
        "--days",
        "4",
        "--dir",
        str(tmp_path / "demo"),
        "--portfolio",
        str(portfolio),
    )
    assert code == 0, out + err
    assert "Messages by channel" in out and "Outputs:" in out
    assert list((tmp_path / "demo" / "letters").rglob("*.pdf"))

    demo_config = tmp_path / "demo-config"
    shutil.copytree(config_dir, demo_config)
    db = f"sqlite:///{tmp_path / 'demo' / 'outreach.db'}"
    result = CliRunner().invoke(
        main,
        ["--config-dir", str(demo_config), "log", "--json", "--channel", "sms", "--limit", "5"],
        env={"OUTREACH_DATABASE_URL": db},
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows and {r["channel"] for r in rows} == {"sms"}
    for row in rows:  # contact values are masked to their last 4 characters
        assert row["to"].startswith("*") and len(row["to"].lstrip("*")) == 4


def test_log_with_a_rule_that_is_not_a_rule_id_exits_2(config_dir: Path) -> None:
    assert invoke(config_dir, "init")[0] == 0
    code, _, err = invoke(config_dir, "log", "--rule", "F1' OR 1=1")
    assert code == 2 and "rule: not a rule id" in err


def test_log_filters_by_rule_and_masks_addresses_inside_reasons(config_dir: Path) -> None:
    """An opt-out reason names the address; the log shows only its last 4 characters."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from outreach.clock import SimulatedClock
    from outreach.config.loader import Config
    from outreach.db.models import ContactPoint
    from outreach.runtime import Runtime
    from tests.factories import add_debtor

    assert invoke(config_dir, "init")[0] == 0
    clock = SimulatedClock(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    runtime = Runtime(Config(config_dir), clock)
    debtor_id, account_id = add_debtor(runtime.factory, clock.now())
    with runtime.factory.begin() as session:
        phone = session.scalars(
            select(ContactPoint).where(
                ContactPoint.debtor_id == debtor_id, ContactPoint.kind == "phone"
            )
        ).one()
        set_opt_out(session, clock.now(), "debtor:sms", phone, opted_out=True)
        plan_message(
            session,
            clock.now(),
            debtor_id=debtor_id,
            account_id=account_id,
            channel="sms",
            template="sms/reminder",
            kind="collection",
            step_id="manual",
            due_at=clock.now(),
            cause="test",
        )
    import asyncio

    asyncio.run(runtime.dispatcher({}).run_until_idle())
    code, out, err = invoke(config_dir, "log", "--json", "--rule", "F7")
    assert code == 0, err
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert row["state"] == "blocked" and "F7" in row["rules"]
    assert "+12125550143" not in out and "0143" in " ".join(row["reasons"])
