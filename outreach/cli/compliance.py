"""`outreach compliance explain`: ask the compliance engine about one contact, no database.

A stable scripting interface (README, "Compliance decisions"): one JSON scenario in, one JSON
decision out, exit 2 and one line on stderr naming the field for bad input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from outreach.cli.common import BadField, config_dir

if TYPE_CHECKING:
    from outreach.compliance.policy import Policy


def _policy(ctx: click.Context, path: Path | None) -> Policy:
    from outreach.compliance.policy import Policy
    from outreach.config.files import ConfigError, load_yaml_model

    try:
        return load_yaml_model(path or config_dir(ctx) / "policy.yaml", Policy)
    except ConfigError as exc:
        raise BadField.from_config(exc) from exc


@click.group()
def compliance() -> None:
    """Ask the compliance engine about a contact, without a database."""


@compliance.command()
@click.option(
    "--file",
    "source",
    type=click.File("r", encoding="utf-8"),
    default="-",
    help="The JSON scenario (default: standard input).",
)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Policy file (default: policy.yaml in the configuration folder).",
)
@click.option("--pretty", is_flag=True, help="Indent the JSON output.")
@click.pass_context
def explain(ctx: click.Context, source: IO[str], policy_path: Path | None, pretty: bool) -> None:
    """Decide one scenario: allow, defer (until when) or block, with rule ids and reasons."""
    from outreach.compliance.scenario import ScenarioError, decide, parse

    policy = _policy(ctx, policy_path)
    try:
        data = json.load(source)
    except json.JSONDecodeError as exc:
        raise BadField(
            f"input: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    try:
        scenario = parse(data)
        decision = decide(scenario, policy)
    except ScenarioError as exc:
        raise BadField(str(exc)) from exc
    click.echo(json.dumps(decision, indent=2 if pretty else None, ensure_ascii=False))
