"""`outreach compliance explain --jsonl`: one answer per non-blank input line, in input order,
each carrying its physical line number; bad lines answered as errors while the rest are
decided; exit 2 if any line was bad."""

from __future__ import annotations

import json
import selectors
import subprocess
from pathlib import Path
from typing import IO, Any

from click.testing import CliRunner

from outreach.cli.main import main
from tests.cli.test_compliance import CONTENT_ROWS, ROWS, explain, sms
from tests.conftest import CONFIG_DIR
from tests.processes import outreach_command, outreach_env

SCENARIOS = [row[1] for row in ROWS] + [row[1] for row in CONTENT_ROWS]


def explain_lines(text: str | bytes, *args: str) -> tuple[int, list[dict[str, Any]], str]:
    result = CliRunner().invoke(
        main,
        ["--config-dir", str(CONFIG_DIR), "compliance", "explain", "--jsonl", *args],
        input=text,
    )
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    return result.exit_code, answers, result.stderr


def jsonl(*items: Any) -> str:
    return "".join((i if isinstance(i, str) else json.dumps(i)) + "\n" for i in items)


def test_each_line_gets_the_decision_the_single_command_gives_in_input_order() -> None:
    """One definition: a line's answer is `explain`'s output for it, plus its line number."""
    code, answers, err = explain_lines(jsonl(*SCENARIOS))
    assert code == 0, err
    assert [a["line"] for a in answers] == list(range(1, len(SCENARIOS) + 1))
    for scenario, answer in zip(SCENARIOS, answers, strict=True):
        single_code, single_out, _ = explain(scenario)
        assert single_code == 0
        assert {k: v for k, v in answer.items() if k != "line"} == json.loads(single_out)
        assert next(iter(answer)) == "line"  # first, so a reader sees it at once


def test_bad_lines_are_answered_with_their_line_and_field_and_the_rest_decided() -> None:
    text = jsonl(
        sms(),
        "{not json",
        sms(kind="Collection"),
        "[1, 2]",
        sms(debtor={"zip": "1001"}),
        '"a string"',
        sms(history=[{"channel": "sms", "at": "2026-11-20T10:00:00Z", "k": 1}]),
        sms(now="2026-11-24T06:00:00-05:00"),
    )
    code, answers, err = explain_lines(text)
    assert code == 2
    assert err == ""  # the errors are answers, not diagnostics
    assert [a["line"] for a in answers] == list(range(1, 9))
    errors = {a["line"]: a["error"] for a in answers if "error" in a}
    assert {line: e["field"] for line, e in errors.items()} == {
        2: "input",
        3: "kind",
        4: "input",
        5: "debtor.zip",
        6: "input",
        7: "history[0].k",
    }
    assert errors[2]["message"].startswith("invalid JSON at line 1, column 2")
    assert "did you mean 'collection'?" in errors[3]["message"]
    assert errors[4]["message"] == errors[6]["message"] == "expected a JSON object"
    assert errors[7]["message"] == "unknown field"
    assert all(set(a) == {"line", "error"} for a in answers if "error" in a)
    assert [a["verdict"] for a in answers if "error" not in a] == ["allow", "defer"]


def test_the_error_answer_is_the_single_commands_error() -> None:
    bad = sms(debtor={"phones": ["+1"]})
    code, answers, _ = explain_lines(jsonl(bad))
    single_code, _, single_err = explain(bad)
    assert code == single_code == 2
    error = answers[0]["error"]
    assert single_err == f"error: {error['field']}: {error['message']}\n"


def test_blank_lines_get_no_answer_but_count_as_lines() -> None:
    text = "\n" + json.dumps(sms()) + "\r\n   \n\t\n" + json.dumps(sms()) + "\n\n"
    code, answers, _ = explain_lines(text)
    assert code == 0
    assert [a["line"] for a in answers] == [2, 5]


def test_a_last_line_without_a_newline_is_answered() -> None:
    code, answers, _ = explain_lines(json.dumps(sms()) + "\n" + json.dumps(sms()))
    assert code == 0 and [a["line"] for a in answers] == [1, 2]


def test_empty_input_exits_0_with_no_output() -> None:
    assert explain_lines("") == (0, [], "")


def test_a_line_that_is_not_utf8_is_answered_as_bad_json() -> None:
    text = json.dumps(sms()).encode() + b"\n" + b'{"now": "\xff"}\n' + json.dumps(sms()).encode()
    code, answers, _ = explain_lines(text)
    assert code == 2
    assert [a.get("error", {}).get("field") for a in answers] == [None, "input", None]
    assert answers[1]["error"]["message"].startswith("invalid JSON")


def test_reads_a_file_and_another_policy(tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios.jsonl"
    scenarios.write_text(jsonl(sms(now="2026-11-26T10:00:00-05:00"), sms()))
    policy = tmp_path / "policy.yaml"
    policy.write_text("holidays: true\n")  # 2026-11-26 is Thanksgiving
    code, answers, _ = explain_lines("", "--file", str(scenarios), "--policy", str(policy))
    assert code == 0
    assert [(a["line"], a["verdict"], a["rules"]) for a in answers] == [
        (1, "defer", ["holiday"]),
        (2, "allow", []),
    ]


def test_a_bad_policy_exits_2_before_any_answer(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("states:\n  XY: {}\n")
    code, answers, err = explain_lines(jsonl(sms()), "--policy", str(policy))
    assert (code, answers) == (2, [])
    assert "XY" in err and err.count("\n") == 1


def test_pretty_and_jsonl_exclude_each_other() -> None:
    code, answers, err = explain_lines(jsonl(sms()), "--pretty")
    assert (code, answers) == (2, [])
    assert "--pretty" in err


def _readline(stream: IO[bytes], timeout: float = 60) -> bytes:
    """One line from a child's stdout, or fail after `timeout` seconds."""
    selector = selectors.DefaultSelector()
    selector.register(stream, selectors.EVENT_READ)
    assert selector.select(timeout), "no answer while the input is still open"
    return stream.readline()


def test_a_big_input_is_streamed_each_line_answered_as_it_arrives() -> None:
    """A caller may write a line and wait for its answer (the input still open), then send
    5,000 more: answers come in order, one per line, without the input being read whole."""
    child = subprocess.Popen(
        outreach_command(CONFIG_DIR, "compliance", "explain", "--jsonl"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=outreach_env(),
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        child.stdin.write(jsonl(sms(kind="Collection")).encode())
        child.stdin.flush()
        assert json.loads(_readline(child.stdout))["error"]["field"] == "kind"
        child.stdin.write(jsonl(sms()).encode())
        child.stdin.flush()
        assert json.loads(_readline(child.stdout))["line"] == 2
        lines = [SCENARIOS[i % len(SCENARIOS)] for i in range(5_000)]
        out, _ = child.communicate(jsonl(*lines).encode(), timeout=300)
    finally:
        child.kill()
        child.wait()
    answers = [json.loads(line) for line in out.splitlines()]
    assert [a["line"] for a in answers] == list(range(3, 5_003))
    assert all("verdict" in a for a in answers)
    assert child.returncode == 2  # line 1 was bad
