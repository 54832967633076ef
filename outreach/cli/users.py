"""`outreach users`: create users, mint API tokens, list and disable users."""

from __future__ import annotations

import sys

import click

from outreach.cli.common import BadInput, console, load_runtime
from outreach.vocabulary import Role

ACTOR = "cli"


@click.group()
def users() -> None:
    """Console and API users."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (one line)."
)
@click.pass_context
def add(ctx: click.Context, name: str, role: str, password_stdin: bool) -> None:
    """Create a user who can sign in to the console."""
    from outreach.actions.audit import ActionError
    from outreach.auth.users import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    runtime = load_runtime(ctx)
    with runtime.factory.begin() as session:
        try:
            create_user(
                session, runtime.clock.now(), ACTOR, name=name, role=role, password=password
            )
        except ActionError as exc:
            raise BadInput(str(exc)) from exc
    click.echo(f"User {name} ({role}) created.")


@users.command("token")
@click.argument("name")
@click.option("--label", default="cli", show_default=True, help="What the token is for.")
@click.pass_context
def token(ctx: click.Context, name: str, label: str) -> None:
    """Mint an API token for NAME and print it once (only its hash is kept)."""
    from outreach.actions.audit import ActionError
    from outreach.auth.users import find_user, mint_api_token

    runtime = load_runtime(ctx)
    with runtime.factory.begin() as session:
        user = find_user(session, name)
        if user is None:
            raise BadInput(f"no user {name!r}")
        try:
            value = mint_api_token(session, runtime.clock.now(), ACTOR, user, label)
        except ActionError as exc:
            raise BadInput(str(exc)) from exc
    click.echo(value)


@users.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """List users."""
    from rich.table import Table
    from sqlalchemy import select

    from outreach.db.users import User

    runtime = load_runtime(ctx)
    table = Table("name", "role", "created", "last sign-in", "status")
    with runtime.factory() as session:
        for u in session.scalars(select(User).order_by(User.name)):
            table.add_row(
                u.name,
                u.role,
                f"{u.created_at:%Y-%m-%d %H:%M}",
                f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "",
                "disabled" if u.disabled_at else "active",
            )
    console().print(table)


@users.command("disable")
@click.argument("name")
@click.pass_context
def disable(ctx: click.Context, name: str) -> None:
    """Disable NAME: their sessions and API tokens stop working at once."""
    from outreach.auth.users import disable_user, find_user

    runtime = load_runtime(ctx)
    with runtime.factory.begin() as session:
        user = find_user(session, name)
        if user is None:
            raise BadInput(f"no user {name!r}")
        changed = disable_user(session, runtime.clock.now(), ACTOR, user)
    click.echo(f"User {name} disabled." if changed else f"User {name} was already disabled.")
