"""`outreach compliance explain`: ask the compliance engine about one contact, no database.

A stable scripting interface (README, "Compliance decisions"): one JSON scenario in, one JSON
decision out, exit 2 and one line on stderr naming the field for bad input. `--jsonl` answers
one scenario per line, each on its own output line, bad lines included (exit 2 if any).
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from outreach.cli.common import EXIT_BAD_INPUT, BadField, BadInput, config_dir

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
    type=click.File("rb"),
    default="-",
    help="The JSON scenario, or JSON lines with --jsonl (default: standard input).",
)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Policy file (default: policy.yaml in the configuration folder).",
)
@click.option("--pretty", is_flag=True, help="Indent the JSON output.")
@click.option(
    "--jsonl",
    is_flag=True,
    help="One scenario per line; one answer per line, errors included (exit 2 if any).",
)
@click.pass_context
def explain(
    ctx: click.Context, source: IO[bytes], policy_path: Path | None, pretty: bool, jsonl: bool
) -> None:
    """Decide one scenario: allow, defer (until when) or block, with rule ids and reasons.

    With --jsonl, one scenario per line: each answered on its own line, in input order, with
    its line number; a bad line gets an error answer and the rest are still decided.
    """
    from outreach.compliance import scenario

    if jsonl and pretty:
        raise BadInput("--pretty and --jsonl exclude each other (one answer per line)")
    policy = _policy(ctx, policy_path)
    if jsonl:
        if _explain_lines(source, policy):
            ctx.exit(EXIT_BAD_INPUT)
        return
    try:
        decision = scenario.explain(source.read(), policy)
    except scenario.ScenarioError as exc:
        raise BadField(str(exc)) from exc
    click.echo(scenario.encode(decision, pretty=pretty))


# Read at most this much at a time; a read returns what is there, so a line is answered as
# soon as it has arrived and the pipe is empty.
_CHUNK = 1 << 18


def _explain_lines(source: IO[bytes], policy: Policy) -> int:
    """Answer each line of `source` on standard output, writing (and flushing) once per read;
    the number of bad lines."""
    from outreach.collector import rare_collections
    from outreach.compliance.jsonl import answers

    read = getattr(source, "read1", source.read)
    out = click.open_file("-", "wb")  # standard output, binary (kept open)
    bad = 0
    with rare_collections():  # many short-lived objects per line, no cycles
        for block in answers(iter(lambda: read(_CHUNK), b""), policy):
            if block.text:
                out.write(block.text)
                out.flush()
            bad += block.bad
    return bad
