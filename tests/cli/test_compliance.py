"""`outreach compliance explain`: the public JSON interface, one scenario per rule, and the
exit-2 one-line errors that name the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from outreach.cli.main import main
from tests.conftest import CONFIG_DIR

NOW = "2026-11-24T10:00:00-05:00"  # a Tuesday, 15:00 UTC
PA = {"state": "PA", "zip": "19103", "phones": ["+12155550143"]}


def explain(scenario: Any, *args: str) -> tuple[int, str, str]:
    text = scenario if isinstance(scenario, str) else json.dumps(scenario)
    result = CliRunner().invoke(
        main, ["--config-dir", str(CONFIG_DIR), "compliance", "explain", *args], input=text
    )
    return result.exit_code, result.stdout, result.stderr


def sms(**changes: Any) -> dict[str, Any]:
    scenario: dict[str, Any] = {"now": NOW, "channel": "sms", "to": "+12155550143", "debtor": PA}
    scenario.update(changes)
    return scenario


# (name, scenario, verdict, not_before, rules)
ROWS: list[tuple[str, dict[str, Any], str, str | None, list[str]]] = [
    ("allow", sms(), "allow", None, []),
    ("F1", sms(now="2026-11-24T06:00:00-05:00"), "defer", "2026-11-24T13:00:00+00:00", ["F1"]),
    (
        "F2",
        sms(debtor={"state": "CA", "zip": "90012", "phones": ["+12125551234"]}),
        "defer",
        "2026-11-24T16:00:00+00:00",
        ["F1", "F2"],
    ),
    (
        "F3",
        sms(debtor={**PA, "inconvenient_times": [{"start": "00:00", "end": "12:00"}]}),
        "defer",
        "2026-11-24T17:00:00+00:00",
        ["F3"],
    ),
    (
        "F3 weekdays, email only",
        sms(
            channel="email",
            to="pat@example.com",
            debtor={
                **PA,
                "inconvenient_times": [
                    {
                        "start": "09:00",
                        "end": "17:00",
                        "days": ["mon", "tue", "wed", "thu", "fri"],
                        "channel": "email",
                    }
                ],
            },
        ),
        "defer",
        "2026-11-24T22:00:00+00:00",
        ["F3"],
    ),
    ("F5", sms(debtor={**PA, "holds": ["attorney"]}), "block", None, ["F5"]),
    ("F6", sms(debtor={**PA, "holds": ["cease"]}), "block", None, ["F6"]),
    (
        "F6 cease_ack",
        sms(channel="letter", to=None, kind="cease_ack", debtor={**PA, "holds": ["cease"]}),
        "allow",
        None,
        [],
    ),
    ("F7", sms(debtor={**PA, "holds": ["opt_out:sms"]}), "block", None, ["F7"]),
    (
        "F8 conversation",
        sms(
            channel="call",
            history=[
                {"channel": "call", "at": "2026-11-23T11:00:00-05:00", "kind": "conversation"}
            ],
        ),
        "defer",
        "2026-11-30T13:00:00+00:00",
        ["F8", "F1"],
    ),
    (
        "F10",
        sms(
            history=[
                {"channel": "sms", "at": "2026-11-18T12:00:00Z"},
                {"channel": "sms", "at": "2026-11-21T12:00:00Z"},
                {"channel": "sms", "at": "2026-11-22T12:00:00Z"},
            ]
        ),
        "defer",
        "2026-11-25T13:00:00+00:00",  # 07:00 in Philadelphia when the cap frees: F1 too
        ["F10", "F1"],
    ),
    (
        "F12",
        sms(
            channel="email",
            to="Pat@Work.example",
            debtor={**PA, "emails": [{"address": "pat@work.example", "work": True}]},
        ),
        "block",
        None,
        ["F12"],
    ),
    (
        "F12 consented",
        sms(
            channel="email",
            to="pat@work.example",
            debtor={
                **PA,
                "emails": [{"address": "pat@work.example", "work": True, "consented": True}],
            },
        ),
        "allow",
        None,
        [],
    ),
    (
        "F17 F15",
        sms(
            account={
                "validation_notice_sent_at": "2026-11-02T10:00:00-05:00",
                "disputed_at": "2026-11-20T10:00:00-05:00",
            }
        ),
        "block",
        None,
        ["F17", "F15"],
    ),
    (
        "F18 template",
        sms(channel="letter", to=None, threatens_suit=True, account={"time_barred": True}),
        "block",
        None,
        ["F18"],
    ),
    ("bankruptcy", sms(debtor={**PA, "holds": ["bankruptcy"]}), "block", None, ["bankruptcy"]),
    ("deceased", sms(debtor={**PA, "holds": ["deceased"]}), "block", None, ["deceased"]),
    (
        "promise",
        sms(account={"promise_due_on": "2026-11-25"}),
        "defer",
        "2026-11-26T13:00:00+00:00",
        ["promise", "F1"],
    ),
    (
        "promise follow-up is not paused",
        sms(kind="promise_followup", account={"promise_due_on": "2026-11-25"}),
        "allow",
        None,
        [],
    ),
    (
        "MA",
        sms(
            debtor={"state": "MA", "zip": "02108"},
            history=[
                {"channel": "call", "at": "2026-11-21T16:00:00Z", "kind": "attempt"},
                {"channel": "sms", "at": "2026-11-23T03:00:00Z"},
            ],
        ),
        "defer",
        "2026-11-28T16:00:00+00:00",
        ["MA"],
    ),
    (
        "WA",
        sms(
            now="2026-11-24T12:00:00-08:00",
            channel="letter",
            to=None,
            debtor={"state": "WA", "zip": "98101"},
            history=[
                {"channel": "letter", "at": "2026-11-19T20:00:00Z"},
                {"channel": "email", "at": "2026-11-21T20:00:00Z"},
                {"channel": "call", "at": "2026-11-22T20:00:00Z"},
            ],
        ),
        "defer",
        "2026-11-26T20:00:00+00:00",
        ["WA"],
    ),
    (
        "NYC consent",
        sms(debtor={"state": "NY", "zip": "10001", "phones": ["+12125551234"]}),
        "block",
        None,
        ["NYC"],
    ),
    (
        "NYC weekly",
        sms(
            debtor={"state": "NY", "zip": "10001", "consented": ["+12155550143"]},
            history=[
                {"channel": "letter", "at": "2026-11-19T15:00:00Z"},
                {"channel": "email", "at": "2026-11-21T15:00:00Z"},
                {"channel": "call", "at": "2026-11-22T15:00:00Z"},
            ],
        ),
        "defer",
        "2026-11-26T15:00:00+00:00",
        ["NYC"],
    ),
    (
        "DST spring forward",
        sms(now="2026-03-08T07:00:00-04:00"),
        "defer",
        "2026-03-08T12:00:00+00:00",
        ["F1"],
    ),
    (
        "Hawaii",
        sms(
            now="2026-07-01T07:30:00-10:00",
            to="+18085550143",  # a Honolulu number: the texted phone is evidence too
            debtor={"state": "HI", "zip": "96813"},
        ),
        "defer",
        "2026-07-01T18:00:00+00:00",
        ["F1"],
    ),
]

LATER = "This communication is from a debt collector."
CONTENT_ROWS: list[tuple[str, dict[str, Any], list[str]]] = [
    ("F14", sms(content="Acme: pay now. Reply STOP to opt out.", first_contact=False), ["F14"]),
    ("F11", sms(content=f"Acme: pay now. {LATER}", first_contact=False), ["F11"]),
    (
        "CA license",
        sms(
            debtor={"state": "CA", "zip": "90012"},
            content=f"Acme. {LATER} Reply STOP",
            first_contact=False,
        ),
        ["CA"],
    ),
    (
        "F18 wording",
        sms(
            account={"time_barred": True},
            content=f"We may sue you. {LATER} Reply STOP",
            history=[{"channel": "letter", "at": "2026-11-20T10:00:00Z"}],  # not the first
        ),
        ["F18"],
    ),
    (
        "sms-segments",
        sms(content=f"{LATER} Reply STOP " + "x" * 480, first_contact=False),
        ["sms-segments"],
    ),
]


@pytest.mark.parametrize(
    ("scenario", "verdict", "not_before", "rules"),
    [r[1:] for r in ROWS],
    ids=[r[0] for r in ROWS],
)
def test_explain(
    scenario: dict[str, Any], verdict: str, not_before: str | None, rules: list[str]
) -> None:
    code, out, err = explain(scenario)
    assert code == 0, err
    decision = json.loads(out)
    assert (decision["verdict"], decision["not_before"], decision["rules"]) == (
        verdict,
        not_before,
        rules,
    ), decision["reasons"]
    assert len(decision["reasons"]) >= len(rules)
    assert set(decision["titles"]) == set(rules)
    assert decision["segments"] is None and decision["encoding"] is None
    assert out.count("\n") == 1  # one JSON object, one line


@pytest.mark.parametrize(
    ("scenario", "rules"), [r[1:] for r in CONTENT_ROWS], ids=[r[0] for r in CONTENT_ROWS]
)
def test_explain_content(scenario: dict[str, Any], rules: list[str]) -> None:
    code, out, err = explain(scenario)
    assert code == 0, err
    decision = json.loads(out)
    assert (decision["verdict"], decision["rules"]) == ("block", rules), decision["reasons"]
    assert decision["encoding"] == "GSM-7" and decision["segments"] >= 1


def test_explain_reports_normalized_sms_text_and_segments() -> None:
    content = f"We\u2019re here \u2013 call us. {LATER} Reply STOP to opt out."
    code, out, _ = explain(sms(content=content, first_contact=False))
    decision = json.loads(out)
    assert code == 0 and decision["verdict"] == "allow"
    assert (decision["encoding"], decision["segments"]) == ("GSM-7", 1)
    assert decision["text"].startswith("We're here - call us.")


def test_explain_reads_a_file_and_another_policy(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(sms(now="2026-11-26T10:00:00-05:00")))
    policy = tmp_path / "policy.yaml"
    policy.write_text("holidays: true\n")
    code, out, _ = explain("", "--file", str(scenario), "--policy", str(policy))
    assert code == 0
    decision = json.loads(out)
    assert (decision["verdict"], decision["rules"]) == ("defer", ["holiday"])
    assert decision["not_before"] == "2026-11-27T13:00:00+00:00"


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("{not json", "error: input: invalid JSON at line 1, column 2"),
        ("[]", "error: input: expected a JSON object"),
        (json.dumps({"channel": "sms", "to": "+12155550143"}), "error: now: Field required"),
        (json.dumps(sms(now="2026-11-24T10:00:00")), "error: now: Input should have timezone"),
        (json.dumps(sms(channel="fax")), "error: channel: Input should be"),
        (json.dumps(sms(to=None)), "error: to: required for channel sms"),
        (json.dumps(sms(to="hello")), "error: to: not a phone number"),
        (json.dumps(sms(debtor={"zip": "1234"})), "error: debtor.zip: expected a 5-digit ZIP"),
        (
            json.dumps(sms(debtor={"state": "CA", "zip": "00000"})),
            "error: debtor.zip: unknown ZIP '00000'",
        ),
        (json.dumps(sms(debtor={"state": "XX"})), "error: debtor.state: not a US state"),
        (json.dumps(sms(debtor={"timezone": "Mars/Base"})), "error: debtor.timezone: not an"),
        (json.dumps(sms(debtor={"phones": ["+1", "x"]})), "error: debtor.phones[0]: not a phone"),
        (json.dumps(sms(debtor={"holds": ["vacation"]})), "error: debtor.holds[0]: unknown hold"),
        (
            json.dumps(sms(debtor={"inconvenient_times": [{"start": "9am", "end": "17:00"}]})),
            "error: debtor.inconvenient_times[0].start: expected HH:MM",
        ),
        (
            json.dumps(sms(history=[{"channel": "sms", "at": "2026-11-20T10:00:00Z", "k": 1}])),
            "error: history[0].k: unknown field",
        ),
        (
            json.dumps(sms(account={"time_barred": "perhaps"})),
            "error: account.time_barred: Input should be a valid boolean",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_field(scenario: str, expected: str) -> None:
    code, out, err = explain(scenario)
    assert code == 2
    assert out == ""
    assert err.startswith(expected), err
    assert err.count("\n") == 1


INCONVENIENT = {"start": "09:00", "end": "17:00"}
HISTORY = {"channel": "sms", "at": "2026-11-20T10:00:00Z"}
KINDS = ["collection", "validation_notice", "cease_ack", "remedy", "promise_followup", "reply"]
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
CHANNELS = ["sms", "email", "letter", "call"]
HOLDS = ["cease", "attorney", "bankruptcy", "deceased", "dispute", "opt_out:sms"]


# Every field with a fixed vocabulary: (scenario, field, a value it allows, the hint).
@pytest.mark.parametrize(
    ("scenario", "field", "allowed", "hint"),
    [
        (sms(kind="Collection"), "kind", KINDS, "collection"),
        (sms(kind="dunning"), "kind", KINDS, None),
        (sms(channel="SMS"), "channel", CHANNELS, "sms"),
        (sms(history=[{**HISTORY, "channel": "fax"}]), "history[0].channel", CHANNELS, None),
        (
            sms(history=[HISTORY, {**HISTORY, "kind": "Conversation"}]),
            "history[1].kind",
            ["attempt", "conversation"],
            "conversation",
        ),
        (
            sms(debtor={**PA, "inconvenient_times": [{**INCONVENIENT, "days": ["mon", "Tue"]}]}),
            "debtor.inconvenient_times[0].days[1]",
            WEEKDAYS,
            "tue",
        ),
        (
            sms(debtor={**PA, "inconvenient_times": [{**INCONVENIENT, "channel": "phone"}]}),
            "debtor.inconvenient_times[0].channel",
            CHANNELS,
            None,
        ),
        (sms(debtor={**PA, "holds": ["Cease"]}), "debtor.holds[0]", HOLDS, "cease"),
        (sms(account={"holds": ["opt_out_sms"]}), "account.holds[0]", HOLDS, "opt_out:sms"),
    ],
)
def test_a_value_outside_a_fields_vocabulary_exits_2_naming_the_field_and_the_values(
    scenario: dict[str, Any], field: str, allowed: list[str], hint: str | None
) -> None:
    """A typo in a vocabulary (issue: "Collection" skipped the promise pause) is refused."""
    code, out, err = explain(scenario)
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {field}: ") and err.count("\n") == 1, err
    assert all(value in err for value in allowed), err
    assert (f"did you mean {hint!r}?" in err) if hint else "did you mean" not in err


def test_a_policy_kind_outside_the_message_kinds_exits_2(tmp_path: Path) -> None:
    """The policy's kinds (promise_pauses, cap_exempt_kinds, responses) are message kinds too."""
    policy = tmp_path / "policy.yaml"
    policy.write_text("promise_pauses: [Collection]\n")
    code, out, err = explain(sms(), "--policy", str(policy))
    assert (code, out) == (2, "")
    assert "promise_pauses" in err and "collection" in err and err.count("\n") == 1


def test_history_with_local_offsets_gives_utc_instants() -> None:
    """not_before and the reasons' "UTC" times are UTC whatever offset the history is in."""
    history = [
        {"channel": "letter", "at": "2026-11-19T05:00:00-08:00"},  # 13:00 UTC
        {"channel": "email", "at": "2026-11-21T12:00:00-08:00"},
        {"channel": "call", "at": "2026-11-22T12:00:00-08:00"},
    ]
    wa = {"state": "WA", "zip": "98101"}
    seattle = "+12065550143"  # the texted phone is evidence too
    code, out, _ = explain(
        sms(now="2026-11-24T12:00:00-08:00", to=seattle, debtor=wa, history=history)
    )
    decision = json.loads(out)
    assert code == 0 and decision["rules"] == ["WA", "F1"]
    assert decision["not_before"] == "2026-11-26T16:00:00+00:00"  # 08:00 in Seattle
    assert decision["reasons"][-1].startswith(
        "At 2026-11-26 13:00 UTC, when the caps allow, it will be 05:00 in America/Los_Angeles"
    )
    letter = sms(now="2026-11-24T12:00:00-08:00", channel="letter", debtor=wa, history=history)
    decision = json.loads(explain(letter)[1])
    assert decision["not_before"] == "2026-11-26T13:00:00+00:00"  # letters have no window


def test_a_byte_order_mark_is_not_part_of_the_json() -> None:
    """Spreadsheets and Windows tools start UTF-8 files with one."""
    code, out, _ = explain("\ufeff" + json.dumps(sms()))
    assert code == 0 and json.loads(out)["verdict"] == "allow"


def test_other_addresses_are_evidence_of_where_the_consumer_may_be() -> None:
    """21:30 in New York, 18:30 in Los Angeles: a second address in New York makes it wait."""
    la = {"state": "CA", "zip": "90012"}
    scenario = {"now": "2026-12-02T02:30:00Z", "channel": "email", "to": "pat@example.com"}
    code, out, _ = explain({**scenario, "debtor": la})
    assert code == 0 and json.loads(out)["verdict"] == "allow"
    code, out, _ = explain({**scenario, "debtor": {**la, "other_zips": ["10001"]}})
    decision = json.loads(out)
    assert code == 0 and decision["verdict"] == "defer"
    assert decision["zones"] == ["America/Los_Angeles", "America/New_York"]
    assert decision["not_before"] == "2026-12-02T16:00:00+00:00"
    code, _, err = explain({**scenario, "debtor": {**la, "other_zips": ["1"]}})
    assert code == 2 and err.startswith("error: debtor.other_zips[0]: expected a 5-digit ZIP")
