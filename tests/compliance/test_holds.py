from __future__ import annotations

import pytest

from outreach.compliance.holds import check_holds
from outreach.compliance.policy import Policy
from outreach.compliance.types import AccountSnapshot, Attempt, DebtorSnapshot

POLICY = Policy()
SMS = Attempt(channel="sms", to="+12125551234")
EMAIL = Attempt(channel="email", to="John.Doe@Example.com")
LETTER = Attempt(channel="letter")


def debtor(*holds: str, opted_out: tuple[str, ...] = ()) -> DebtorSnapshot:
    return DebtorSnapshot(holds=frozenset(holds), opted_out=frozenset(opted_out))


def account(*holds: str) -> AccountSnapshot:
    return AccountSnapshot(id=42, holds=frozenset(holds))


# (name, attempt, debtor, account, policy, expected rule ids)
ROWS: list[tuple[str, Attempt, DebtorSnapshot, AccountSnapshot, Policy, list[str]]] = [
    ("nothing", SMS, debtor(), account(), POLICY, []),
    ("consumer cease", SMS, debtor("cease"), account(), POLICY, ["F6"]),
    ("consumer attorney", EMAIL, debtor("attorney"), account(), POLICY, ["F5"]),
    ("consumer bankruptcy", LETTER, debtor("bankruptcy"), account(), POLICY, ["bankruptcy"]),
    ("consumer deceased", LETTER, debtor("deceased"), account(), POLICY, ["deceased"]),
    ("account dispute", SMS, debtor(), account("dispute"), POLICY, ["F17"]),
    ("account attorney", SMS, debtor(), account("attorney"), POLICY, ["F5"]),
    ("account cease", LETTER, debtor(), account("cease"), POLICY, ["F6"]),
    ("account bankruptcy", SMS, debtor(), account("bankruptcy"), POLICY, ["bankruptcy"]),
    (
        "several holds all listed",
        SMS,
        debtor("cease", "attorney"),
        account("dispute"),
        POLICY,
        ["F5", "F6", "F17"],
    ),
    (
        "cease allows cease_ack",
        Attempt("letter", kind="cease_ack"),
        debtor("cease"),
        account(),
        POLICY,
        [],
    ),
    (
        "cease allows remedy",
        Attempt("letter", kind="remedy"),
        debtor(),
        account("cease"),
        POLICY,
        [],
    ),
    (
        "cease_ack does not pass attorney",
        Attempt("letter", kind="cease_ack"),
        debtor("cease", "attorney"),
        account(),
        POLICY,
        ["F5"],
    ),
    (
        "hold not blocking in this policy",
        SMS,
        debtor("attorney"),
        account(),
        Policy(blocking_holds=["cease"]),
        [],
    ),
    (
        "custom blocking hold",
        SMS,
        debtor("fraud"),
        account(),
        Policy(blocking_holds=["fraud"]),
        ["fraud"],
    ),
    ("unknown hold ignored", SMS, debtor("vip"), account(), POLICY, []),
    ("sms opt-out blocks sms", SMS, debtor("opt_out:sms"), account(), POLICY, ["F7"]),
    ("sms opt-out leaves email", EMAIL, debtor("opt_out:sms"), account(), POLICY, []),
    ("email opt-out blocks email", EMAIL, debtor("opt_out:email"), account(), POLICY, ["F7"]),
    ("opted-out phone", SMS, debtor(opted_out=("+12125551234",)), account(), POLICY, ["F7"]),
    ("other phone still allowed", SMS, debtor(opted_out=("+13125550000",)), account(), POLICY, []),
    (
        "opted-out email, any case",
        EMAIL,
        debtor(opted_out=("john.doe@example.com",)),
        account(),
        POLICY,
        ["F7"],
    ),
    (
        "other email still allowed",
        EMAIL,
        debtor(opted_out=("jane@example.com",)),
        account(),
        POLICY,
        [],
    ),
    (
        "channel and address both fire",
        SMS,
        debtor("opt_out:sms", opted_out=("+12125551234",)),
        account(),
        POLICY,
        ["F7", "F7"],
    ),
    (
        "opt-out confirmation passes F7",
        Attempt("sms", to="+12125551234", kind="opt_out_confirmation"),
        debtor("opt_out:sms"),
        account(),
        POLICY,
        [],
    ),
    (
        "opt-out confirmation still stops at cease",
        Attempt("sms", kind="opt_out_confirmation"),
        debtor("cease", "opt_out:sms"),
        account(),
        POLICY,
        ["F6"],
    ),
]


@pytest.mark.parametrize(
    ("attempt", "debtor_", "account_", "policy", "expected"),
    [r[1:] for r in ROWS],
    ids=[r[0] for r in ROWS],
)
def test_check_holds(
    attempt: Attempt,
    debtor_: DebtorSnapshot,
    account_: AccountSnapshot,
    policy: Policy,
    expected: list[str],
) -> None:
    fired = check_holds(attempt, debtor_, account_, policy)
    assert [rule for rule, _ in fired] == expected
    assert all(reason.endswith(".") and reason[0].isupper() for _, reason in fired)


def test_reasons_name_the_owner() -> None:
    fired = check_holds(SMS, debtor("attorney"), account("dispute"), POLICY)
    assert fired == [
        (
            "F5",
            "The consumer is represented by an attorney for this debt; "
            "contact the attorney instead.",
        ),
        (
            "F17",
            "On account 42, the consumer disputed the debt; "
            "no collection until verification has been sent.",
        ),
    ]
