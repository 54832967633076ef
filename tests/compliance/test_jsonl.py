"""compliance.jsonl: the answers do not depend on how the input is split into reads."""

from __future__ import annotations

import json

import pytest

from outreach.compliance.jsonl import answers
from outreach.compliance.policy import Policy

SCENARIO = {"now": "2026-11-24T10:00:00-05:00", "channel": "letter", "debtor": {"state": "PA"}}
TEXT = (
    json.dumps(SCENARIO) + "\n\n" + '{"now": 1}\n' + json.dumps({**SCENARIO, "kind": "reply"})
).encode()


def _answered(chunks: list[bytes]) -> tuple[list[dict[str, object]], int]:
    blocks = list(answers(chunks, Policy()))
    lines = b"".join(b.text for b in blocks).decode().splitlines()
    return [json.loads(line) for line in lines], sum(b.bad for b in blocks)


@pytest.mark.parametrize("size", [1, 2, 7, 64, len(TEXT)])
def test_reads_of_any_size_give_the_same_answers(size: int) -> None:
    chunks = [TEXT[i : i + size] for i in range(0, len(TEXT), size)]
    got, bad = _answered(chunks)
    assert bad == 1
    assert [(a["line"], a.get("verdict"), "error" in a) for a in got] == [
        (1, "allow", False),
        (3, None, True),
        (4, "allow", False),
    ]
    assert got == _answered([TEXT])[0]


def test_each_read_that_completes_lines_is_answered_in_one_block() -> None:
    """The caller writes once per block: one block per read, not one per line."""
    line = json.dumps(SCENARIO).encode() + b"\n"
    blocks = list(answers([line * 3, line[:5], line[5:] + line], Policy()))
    assert [b.text.count(b"\n") for b in blocks] == [3, 2]  # the middle read ends no line
