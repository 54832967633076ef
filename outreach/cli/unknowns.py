"""`outreach unknown list|resolve|requeue`: messages whose send may or may not have happened,
and settling them by hand through `outreach.actions.unknowns` (which checks and audits).

As `outreach attempts` and `outreach inconvenient` do, the person acting is `--actor`
(default agent:<login name>). A bad id or a message that is not unknown exits 2 with one line.
"""

from __future__ import annotations

import getpass
import json
from typing import TYPE_CHECKING

import click
from rich.table import Table

from outreach.cli.common import BadField, console, load_runtime
from outreach.vocabulary import Channel

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sqlalchemy.orm import Session

    from outreach.db.models import Message
    from outreach.db.outbox import Transition
    from outreach.runtime import Runtime

    _Step = Callable[[Session, datetime, Message], Transition]


def _actor(actor: str | None) -> str:
    return actor or f"agent:{getpass.getuser()}"


@click.group("unknown")
def unknown() -> None:
    """Sends whose outcome is unknown: counted against caps, never resent by themselves."""


@unknown.command("list")
@click.option("--channel", type=click.Choice([c.value for c in Channel]))
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def list_(ctx: click.Context, channel: str | None, limit: int, as_json: bool) -> None:
    """List unknown sends, the longest waiting first. Recipients are masked."""
    from outreach.queries.unknowns import unknown_sends

    runtime = load_runtime(ctx)
    with runtime.factory() as session:
        rows = unknown_sends(session, channel=channel, limit=limit)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row.to_dict()))
        return
    if not rows:
        click.echo("No unknown sends.")
        return
    table = Table("id", "channel", "to", "campaign / step", "since (UTC)", "provider id", "error")
    for column in (0, 2, 5):  # what a person copies or compares whole
        table.columns[column].no_wrap = True
    for r in rows:
        table.add_row(
            str(r.id),
            r.channel,
            r.to,
            (r.campaign or "") + (f" / {r.step}" if r.step else ""),
            f"{r.since:%Y-%m-%d %H:%M}",
            r.provider_id or "",
            r.error or "",
        )
    console().print(table)


@unknown.command("resolve")
@click.argument("message_id", metavar="ID", type=int)
@click.option(
    "--sent/--not-sent",
    default=None,
    help="Required: it went out (sent) or it did not (failed, no longer counted against caps).",
)
@click.option("--note", default="", help="Why you know (kept in the audit trail).")
@click.option("--actor", help="Who resolves it (default agent:<login name>).")
@click.pass_context
def resolve(
    ctx: click.Context, message_id: int, sent: bool | None, note: str, actor: str | None
) -> None:
    """Settle unknown message ID as sent or not sent."""
    from outreach.actions.unknowns import resolve_unknown

    if sent is None:  # click does not enforce `required` on a flag pair
        raise click.UsageError("say --sent or --not-sent", ctx)
    said = sent

    moved = _settle(
        load_runtime(ctx),
        message_id,
        lambda session, now, message: resolve_unknown(
            session, now, _actor(actor), message, sent=said, note=note
        ),
    )
    click.echo(f"Message {message_id}: {moved.from_state} -> {moved.to_state}.")


@unknown.command("requeue")
@click.argument("message_id", metavar="ID", type=int)
@click.option("--note", default="", help="Why (kept in the audit trail).")
@click.option("--actor", help="Who requeues it (default agent:<login name>).")
@click.pass_context
def requeue(ctx: click.Context, message_id: int, note: str, actor: str | None) -> None:
    """Plan unknown message ID again, due now: compliance is checked before any send."""
    from outreach.actions.unknowns import requeue_unknown

    moved = _settle(
        load_runtime(ctx),
        message_id,
        lambda session, now, message: requeue_unknown(
            session, now, _actor(actor), message, note=note
        ),
    )
    click.echo(f"Message {message_id}: {moved.from_state} -> {moved.to_state}, due now.")


def _settle(runtime: Runtime, message_id: int, step: _Step) -> Transition:
    from outreach.actions.audit import ActionError
    from outreach.db.models import Message

    with runtime.factory.begin() as session:
        message = session.get(Message, message_id)
        if message is None:
            raise BadField(f"ID: no message {message_id}")
        try:
            return step(session, runtime.clock.now(), message)
        except ActionError as exc:
            raise BadField(f"ID: {exc}") from exc
