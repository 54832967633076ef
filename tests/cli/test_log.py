"""`outreach log`: the rule filter, bad input, and contact values masked inside reasons."""

from __future__ import annotations

import json
from pathlib import Path

from outreach.actions.contacts import set_opt_out
from outreach.actions.messages import plan_message
from outreach.channels.null import NullChannel
from tests.cli.conftest import invoke


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

    # The opted-out number is blocked before any send: the channel is never called.
    sms = NullChannel("sms")
    asyncio.run(runtime.dispatcher({"sms": sms}).run_until_idle())
    assert sms.count == 0
    code, out, err = invoke(config_dir, "log", "--json", "--rule", "F7")
    assert code == 0, err
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert row["state"] == "blocked" and "F7" in row["rules"]
    assert "+12125550143" not in out and "0143" in " ".join(row["reasons"])
