"""`outreach unknown list|resolve|requeue` against a real database: masked listing, settling
as --actor (default agent:<login name>), and exit 2 with one line for bad ids and states."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

from sqlalchemy import Engine, select

from outreach.clock import SimulatedClock
from outreach.db.casework import AuditEvent
from outreach.db.engine import session_factory
from outreach.db.models import Message
from tests.cli.conftest import invoke
from tests.factories import add_debtor
from tests.unknowns_helpers import add_unknown

SID = "SM" + "ab" * 16


def test_list_shows_unknown_sends_masked_oldest_first(
    config_dir: Path, engine: Engine, clock: SimulatedClock
) -> None:
    factory = session_factory(engine)
    debtor, account = add_debtor(factory, clock.now())
    newer = add_unknown(factory, clock.now(), debtor, account, provider_id=SID, step="b")
    older = add_unknown(
        factory, clock.now().replace(hour=9), debtor, account, channel="email",
        to="maria@example.com", step="a",
    )  # fmt: skip
    code, out, err = invoke(config_dir, "unknown", "list", "--json")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == [older, newer]
    assert rows[1]["to"] == "********0143" and rows[1]["provider_id"] == SID
    assert rows[0]["to"] == "*************.com"
    assert rows[1]["error"] == "outcome unknown (worker lost)"
    code, out, _ = invoke(config_dir, "unknown", "list", "--channel", "sms")
    assert code == 0 and SID in out and "0143" in out and "+12125550143" not in out
    assert "maria" not in out
    code, out, _ = invoke(config_dir, "unknown", "list", "--channel", "letter")
    assert (code, out.strip()) == (0, "No unknown sends.")


def test_resolve_and_requeue_are_audited_as_the_actor(
    config_dir: Path, engine: Engine, clock: SimulatedClock
) -> None:
    factory = session_factory(engine)
    debtor, account = add_debtor(factory, clock.now())
    sent = add_unknown(factory, clock.now(), debtor, account, step="a")
    not_sent = add_unknown(factory, clock.now(), debtor, account, step="b")
    again = add_unknown(factory, clock.now(), debtor, account, step="c")
    code, out, err = invoke(
        config_dir, "unknown", "resolve", str(sent), "--sent", "--actor", "agent:bob"
    )
    assert (code, out.strip()) == (0, f"Message {sent}: unknown -> sent."), err
    code, out, err = invoke(
        config_dir, "unknown", "resolve", str(not_sent), "--not-sent", "--note", "SMTP refused"
    )
    assert (code, out.strip()) == (0, f"Message {not_sent}: unknown -> failed."), err
    code, out, err = invoke(config_dir, "unknown", "requeue", str(again))
    assert (code, out.strip()) == (0, f"Message {again}: unknown -> planned, due now."), err
    with factory() as session:
        states = [session.get_one(Message, i).state for i in (sent, not_sent, again)]
        failed = session.get_one(Message, not_sent)
        audit = session.execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.detail)
            .where(AuditEvent.debtor_id == debtor)
            .order_by(AuditEvent.id)
        ).all()
    me = f"agent:{getpass.getuser()}"
    assert states == ["sent", "failed", "planned"]
    assert failed.error_message == f"not sent (resolved by {me}): SMTP refused"
    assert [tuple(a) for a in audit] == [
        ("agent:bob", "message.resolved_sent", {}),
        (me, "message.resolved_not_sent", {"note": "SMTP refused"}),
        (me, "message.requeued", {}),
    ]


def test_bad_ids_and_states_exit_2_with_one_line(
    config_dir: Path, engine: Engine, clock: SimulatedClock
) -> None:
    factory = session_factory(engine)
    debtor, account = add_debtor(factory, clock.now())
    message_id = add_unknown(factory, clock.now(), debtor, account)
    assert invoke(config_dir, "unknown", "requeue", str(message_id))[0] == 0
    code, _, err = invoke(config_dir, "unknown", "resolve", str(message_id), "--sent")
    assert code == 2
    assert err == (
        f"error: ID: message {message_id} is planned, not unknown: only an unknown send can be "
        "resolved or requeued\n"
    )
    code, _, err = invoke(config_dir, "unknown", "requeue", "424242")
    assert (code, err) == (2, "error: ID: no message 424242\n")
    code, _, err = invoke(config_dir, "unknown", "resolve", str(message_id))
    assert code == 2 and "--sent" in err  # one of --sent / --not-sent is required
    code, _, err = invoke(config_dir, "unknown", "resolve", "abc", "--sent")
    assert code == 2 and "'abc' is not a valid integer" in err
