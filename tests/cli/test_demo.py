"""`outreach demo`: a short simulation end to end, then `outreach log` on its database."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from outreach.cli.main import main
from tests.cli.conftest import invoke
from tests.processes import set_toml


def test_demo_then_log_as_json_lines(config_dir: Path, tmp_path: Path) -> None:
    """Even with real providers configured, the demo sends only to its own stand-ins."""
    demo_config = tmp_path / "demo-config"
    shutil.copytree(config_dir, demo_config)
    set_toml(config_dir / "outreach.toml", "sms", mode="twilio")
    set_toml(config_dir / "outreach.toml", "email", mode="smtp", host="127.0.0.1", port=9)
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
    sandbox = tmp_path / "demo" / "sandbox"
    assert (sandbox / "twilio_requests.jsonl").read_text().count("\n") > 0
    assert list((sandbox / "mail" / "new").iterdir())

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
