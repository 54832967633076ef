"""`outreach compliance explain --jsonl`: one scenario per input line, one answer per line out.

An answer is the decision `explain` prints for that line alone (`scenario.explain`, the one
path) with `"line": N` first, or `{"line": N, "error": {"field", "message"}}` for a line that
is not a valid scenario; the lines after it are still answered. N counts physical lines from
1, blank lines included, so an answer joins back to its input although blank lines get none.

The input comes as chunks of bytes (as a read returns them) and the answers as one block per
chunk, so the caller writes (and flushes) once per read, not once per line: a file is
answered in large writes, and a caller that writes one line and waits gets its answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from outreach.compliance.policy import Policy
from outreach.compliance.scenario import ScenarioError, encode, explain


@dataclass(frozen=True, slots=True)
class Block:
    """The answers to the lines one chunk completed, and how many of those lines were bad."""

    text: bytes
    bad: int


def answer(number: int, raw: bytes, policy: Policy) -> tuple[str, bool]:
    """The answer line (without its newline) for input line `number`, and whether it is bad."""
    try:
        decision = explain(raw, policy)
    except ScenarioError as exc:
        return encode({"line": number, "error": {"field": exc.field, "message": exc.message}}), True
    return encode({"line": number, **decision}), False


def answers(chunks: Iterable[bytes], policy: Policy) -> Iterator[Block]:
    """One Block per chunk that completes a line (and one for a last line without newline)."""
    number = 0  # physical lines before the pending one
    pending: list[bytes] = []  # the start of a line a previous chunk did not finish
    for chunk in chunks:
        if b"\n" not in chunk:
            pending.append(chunk)
            continue
        if pending:
            pending.append(chunk)
            chunk, pending = b"".join(pending), []
        lines = chunk.split(b"\n")
        tail = lines.pop()
        if tail:
            pending.append(tail)
        yield _block(number, lines, policy)
        number += len(lines)
    if pending:
        yield _block(number, [b"".join(pending)], policy)


def _block(before: int, lines: list[bytes], policy: Policy) -> Block:
    out: list[str] = []
    bad = 0
    for number, raw in enumerate(lines, before + 1):
        if raw.isspace() or not raw:
            continue
        text, failed = answer(number, raw, policy)
        out.append(text)
        bad += failed
    return Block(("\n".join(out) + "\n").encode() if out else b"", bad)
