"""`outreach attempts add` and `outreach inconvenient add|list|remove`: casework an agent records
from the shell, applied through `outreach.actions` (which validates and audits).

Debtors and accounts are named by external id; bad input exits 2 with one line naming the field.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from outreach.cli.common import BadField, config_dir, require_schema
from outreach.config.errors import ConfigError
from outreach.vocabulary import ContactChannel

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from outreach.db.models import Account, Debtor


@contextmanager
def _session(ctx: click.Context) -> Iterator[Session]:
    from outreach.config.loader import Config
    from outreach.db.engine import make_engine, session_factory

    try:
        config = Config(config_dir(ctx))
    except ConfigError as exc:
        raise BadField.from_config(exc) from exc
    engine = make_engine(config.database_url)
    try:
        require_schema(engine, config.database_url)
        with session_factory(engine).begin() as session:
            yield session
    finally:
        engine.dispose()


def _debtor(session: Session, external_id: str) -> Debtor:
    from sqlalchemy import select

    from outreach.db.models import Debtor

    debtor = session.scalars(select(Debtor).where(Debtor.external_id == external_id)).first()
    if debtor is None:
        raise BadField(f"--debtor: no debtor {external_id!r}")
    return debtor


def _account(session: Session, debtor: Debtor, external_id: str | None) -> Account | None:
    from sqlalchemy import select

    from outreach.db.models import Account

    accounts = list(session.scalars(select(Account).where(Account.debtor_id == debtor.id)))
    if external_id is None:
        if len(accounts) == 1:
            return accounts[0]
        if not accounts:
            return None
        names = ", ".join(a.external_id for a in accounts)
        raise BadField(f"--account: debtor {debtor.external_id} has several accounts ({names})")
    found = next((a for a in accounts if a.external_id == external_id), None)
    if found is None:
        raise BadField(f"--account: no account {external_id!r} for debtor {debtor.external_id}")
    return found


def _actor(actor: str | None) -> str:
    return actor or f"agent:{getpass.getuser()}"


@click.group()
def attempts() -> None:
    """Record call attempts and conversations (F8 counts them per account)."""


@attempts.command("add")
@click.option("--debtor", "debtor_id", required=True, help="Debtor external id.")
@click.option("--account", "account_id", help="Account external id (optional with one).")
@click.option(
    "--outcome",
    type=click.Choice(["attempt", "conversation"]),
    default="attempt",
    show_default=True,
    help="attempt: nobody reached; conversation: spoke with the consumer.",
)
@click.option("--at", "at", help="When the call was placed, ISO-8601 with offset (default now).")
@click.option("--phone", help="The number called (E.164).")
@click.option("--note", default="", help="A short note.")
@click.option("--actor", help="Who called (default agent:<login name>).")
@click.option("--json", "as_json", is_flag=True, help="Print the recorded call as JSON.")
@click.pass_context
def attempts_add(
    ctx: click.Context,
    debtor_id: str,
    account_id: str | None,
    outcome: str,
    at: str | None,
    phone: str | None,
    note: str,
    actor: str | None,
    as_json: bool,
) -> None:
    """Record one call placed to a debtor."""
    from outreach.actions.audit import ActionError
    from outreach.actions.casework import record_call

    now = datetime.now(UTC)
    when = _aware(at, "--at") if at else now
    with _session(ctx) as session:
        debtor = _debtor(session, debtor_id)
        account = _account(session, debtor, account_id)
        try:
            call = record_call(
                session,
                now,
                _actor(actor),
                debtor_id=debtor.id,
                account_id=account.id if account else None,
                at=when,
                outcome=outcome,
                phone=phone,
                note=note,
            )
        except ActionError as exc:
            raise BadField(str(exc)) from exc
        result = {
            "id": call.id,
            "debtor": debtor.external_id,
            "account": account.external_id if account else None,
            "at": when.astimezone(UTC).isoformat(),
            "outcome": outcome,
        }
    if as_json:
        click.echo(json.dumps(result))
    else:
        click.echo(
            f"Recorded call {outcome} #{result['id']} for {result['debtor']}"
            f"{' / ' + str(result['account']) if result['account'] else ''} at {result['at']}."
        )


def _aware(value: str, option: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadField(f"{option}: not an ISO-8601 date-time: {value!r}") from None
    if parsed.tzinfo is None:
        raise BadField(f"{option}: needs a UTC offset, e.g. {value}-05:00 or {value}Z")
    return parsed


@click.group()
def inconvenient() -> None:
    """Times the consumer said are inconvenient (F3), in their local time."""


@inconvenient.command("add")
@click.option("--debtor", "debtor_id", required=True, help="Debtor external id.")
@click.option("--start", required=True, help="HH:MM local.")
@click.option("--end", required=True, help="HH:MM local (earlier than start: past midnight).")
@click.option("--days", help="Comma-separated: mon,tue,...; default every day.")
@click.option("--channel", type=click.Choice([c.value for c in ContactChannel]))
@click.option("--actor", help="Who recorded it (default agent:<login name>).")
@click.pass_context
def inconvenient_add(
    ctx: click.Context,
    debtor_id: str,
    start: str,
    end: str,
    days: str | None,
    channel: str | None,
    actor: str | None,
) -> None:
    """Record "not between START and END [on DAYS] [by CHANNEL]"."""
    from outreach.actions.audit import ActionError
    from outreach.actions.stated_times import add_inconvenient_time

    with _session(ctx) as session:
        debtor = _debtor(session, debtor_id)
        try:
            add_inconvenient_time(
                session,
                datetime.now(UTC),
                _actor(actor),
                debtor,
                start=start,
                end=end,
                days=[d.strip().lower() for d in days.split(",")] if days else None,
                channel=channel,
            )
        except ActionError as exc:
            raise BadField(str(exc)) from exc
        count = len(debtor.inconvenient_times)
    click.echo(f"Recorded; {debtor_id} has {count} inconvenient time(s).")


@inconvenient.command("list")
@click.option("--debtor", "debtor_id", required=True, help="Debtor external id.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def inconvenient_list(ctx: click.Context, debtor_id: str, as_json: bool) -> None:
    """List the debtor's stated inconvenient times, numbered for `remove`."""
    with _session(ctx) as session:
        entries = list(_debtor(session, debtor_id).inconvenient_times)
    for index, entry in enumerate(entries):
        if as_json:
            click.echo(json.dumps({"index": index, **entry}))
            continue
        days = ",".join(entry.get("days") or []) or "every day"
        by = f" by {entry['channel']}" if entry.get("channel") else ""
        click.echo(f"{index}: {entry['start']}-{entry['end']} {days}{by}")
    if not entries and not as_json:
        click.echo("none")


@inconvenient.command("remove")
@click.option("--debtor", "debtor_id", required=True, help="Debtor external id.")
@click.argument("index", type=int)
@click.option("--actor", help="Who withdrew it (default agent:<login name>).")
@click.pass_context
def inconvenient_remove(ctx: click.Context, debtor_id: str, index: int, actor: str | None) -> None:
    """Withdraw one stated inconvenient time (INDEX from `list`)."""
    from outreach.actions.audit import ActionError
    from outreach.actions.stated_times import remove_inconvenient_time

    with _session(ctx) as session:
        debtor = _debtor(session, debtor_id)
        try:
            remove_inconvenient_time(session, datetime.now(UTC), _actor(actor), debtor, index)
        except ActionError as exc:
            raise BadField(f"INDEX: {exc}") from exc
    click.echo("Removed.")
