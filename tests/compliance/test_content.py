"""Content checks on rendered messages: disclosures, suit wording, SMS encoding and size."""

from __future__ import annotations

import pytest

from outreach.compliance.content import check_content, is_first_communication
from outreach.compliance.sms import encoding, fold_accents, normalize, sms_segments
from outreach.compliance.types import Contact
from outreach.render.context import sample_context
from outreach.render.environment import Renderer
from tests.compliance.common import SHIPPED, utc

LATER = "This communication is from a debt collector."
FIRST = (
    "This is an attempt to collect a debt and any information obtained will be used for that "
    "purpose."
)
SMS_OK = f"Acme: a reminder about account ****4821. {LATER} Reply STOP to opt out."
EMAIL_OK = f"Hello,\n{LATER}\nTo stop receiving emails, unsubscribe here: https://x.test/u/1\n"

# (name, channel, text, options, expected rule ids)
ROWS: list[tuple[str, str, str, dict[str, object], tuple[str, ...]]] = [
    ("sms passes", "sms", SMS_OK, {}, ()),
    ("F14: no disclosure", "sms", "Acme: pay now. Reply STOP to opt out.", {}, ("F14",)),
    ("F14: first contact needs the long form", "sms", SMS_OK, {"first_contact": True}, ("F14",)),
    (
        "F14: first contact with the long form",
        "sms",
        f"Acme: hello. {FIRST} Reply STOP to opt out.",
        {"first_contact": True},
        (),
    ),
    ("F11: SMS without STOP", "sms", f"Acme: hello. {LATER}", {}, ("F11",)),
    ("F11: email without unsubscribe", "email", f"Hello. {LATER}", {}, ("F11",)),
    ("email passes", "email", EMAIL_OK, {}, ()),
    (
        "F11: email missing its own link",
        "email",
        EMAIL_OK,
        {"unsubscribe_url": "https://x.test/u/2"},
        ("F11",),
    ),
    ("F14 in the HTML part counts", "letter", "", {"html": f"<p><b>{LATER}</b></p>"}, ()),
    ("CA: license missing", "sms", SMS_OK, {"places": frozenset({"CA"})}, ("CA",)),
    (
        "CA: license shown",
        "sms",
        SMS_OK.replace("Reply", "CA license no. 10000-99. Reply"),
        {"places": frozenset({"CA"})},
        (),
    ),
    (
        "F18: legal action wording, time-barred",
        "letter",
        f"We may take legal action. {LATER}",
        {"time_barred": True},
        ("F18",),
    ),
    ("F18: same wording, not time-barred", "letter", f"We may take legal action. {LATER}", {}, ()),
    ("F18: 'lawsuit'", "email", f"{EMAIL_OK} to avoid a lawsuit", {"time_barred": True}, ("F18",)),
    (
        "F18: 'a plan to suit you' is fine",
        "email",
        f"{EMAIL_OK} a plan to suit you",
        {"time_barred": True},
        (),
    ),
    ("sms-segments: 4 GSM-7 segments", "sms", SMS_OK + " x" * 250, {}, ("sms-segments",)),
    (
        "sms-segments: emoji makes it UCS-2",
        "sms",
        SMS_OK + " \U0001f600" * 60,
        {},
        ("sms-segments",),
    ),
]


@pytest.mark.parametrize(
    ("channel", "text", "options", "expected"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS]
)
def test_check_content(
    channel: str, text: str, options: dict[str, object], expected: tuple[str, ...]
) -> None:
    result = check_content(channel, text, policy=SHIPPED, **options)  # type: ignore[arg-type]
    assert tuple(rule for rule, _ in result.findings) == expected
    assert all(reason.endswith(".") for _, reason in result.findings)


def test_typographic_punctuation_is_normalized_when_that_makes_gsm7() -> None:
    text = (
        "Acme: we\u2019re here \u2013 \u201ccall us\u201d\u2026 "
        + f"{LATER} Reply STOP to opt out."
    )
    result = check_content("sms", text, policy=SHIPPED)
    assert result.ok
    assert result.text == 'Acme: we\'re here - "call us"... ' + f"{LATER} Reply STOP to opt out."
    assert (result.encoding, result.segments) == ("GSM-7", 1)


def test_punctuation_kept_when_other_characters_need_ucs2_anyway() -> None:
    text = "Gracias \u2013 se\u00f1or \u4f60\u597d"
    assert normalize(text) == text
    assert encoding(text) == "UCS-2"


def test_accents_outside_gsm7_are_folded_so_a_spanish_name_stays_one_segment() -> None:
    text = f"Hola Mar\u00eda y Sof\u00eda, se\u00f1or P\u00e9rez. {LATER} Reply STOP to opt out."
    result = check_content("sms", text, policy=SHIPPED)
    assert result.ok
    # i-acute is not GSM-7 and loses its accent; n-tilde and e-acute are GSM-7 and stay.
    assert result.text.startswith("Hola Maria y Sofia, se\u00f1or P\u00e9rez.")
    assert (result.encoding, result.segments) == ("GSM-7", 1)


def test_accents_are_kept_when_the_sms_is_ucs2_anyway() -> None:
    text = "Mar\u00eda \U0001f600"
    assert fold_accents(text) == text


def test_normalization_can_be_switched_off() -> None:
    policy = SHIPPED.model_copy(
        update={
            "content": SHIPPED.content.model_copy(
                update={"normalize_sms_punctuation": False, "fold_sms_accents": False}
            )
        }
    )
    result = check_content("sms", f"we\u2019re. {LATER} Reply STOP", policy=policy)
    assert result.encoding == "UCS-2" and "\u2019" in result.text


@pytest.mark.parametrize(
    ("text", "segments", "enc"),
    [
        ("a" * 160, 1, "GSM-7"),
        ("a" * 161, 2, "GSM-7"),
        ("a" * 306, 2, "GSM-7"),
        ("a" * 307, 3, "GSM-7"),
        ("{" * 80, 1, "GSM-7"),  # extension characters count 2
        ("{" * 81, 2, "GSM-7"),
        ("é" * 160, 1, "GSM-7"),  # é is in the GSM-7 basic set
        ("\u00ea" * 70, 1, "UCS-2"),  # ê is not
        ("\u00ea" * 71, 2, "UCS-2"),
        ("\u00ea" * 134, 2, "UCS-2"),
        ("\u00ea" * 135, 3, "UCS-2"),
        ("\U0001f600" * 35, 1, "UCS-2"),  # an emoji is two UTF-16 units
        ("\U0001f600" * 36, 2, "UCS-2"),
    ],
)
def test_segments(text: str, segments: int, enc: str) -> None:
    assert (sms_segments(text), encoding(text)) == (segments, enc)


def test_a_call_attempt_is_not_a_communication() -> None:
    attempt = Contact(utc(2026, 11, 1), "call", "attempt", 1)
    talk = Contact(utc(2026, 11, 1), "call", "conversation", 1)
    assert is_first_communication([attempt])
    assert not is_first_communication([attempt, talk])
    assert not is_first_communication([Contact(utc(2026, 11, 1), "letter")])


@pytest.mark.parametrize("name", Renderer().template_names())
@pytest.mark.parametrize("first_contact", [True, False])
def test_shipped_templates_pass_the_content_checks(name: str, first_contact: bool) -> None:
    """What the dispatcher enforces, every shipped template meets (CA sample debtor)."""
    channel = name.partition("/")[0]
    ctx = sample_context(channel, first_contact=first_contact)
    if name.startswith("sms/replies/"):
        pytest.skip("replies are answered directly, not through the dispatcher")
    rendered = Renderer().render(name, ctx)
    policy = SHIPPED.model_copy(
        update={
            "states": {
                **SHIPPED.states,
                "CA": SHIPPED.states["CA"].model_copy(
                    update={"license_number": ctx.agency.license}
                ),
            }
        }
    )
    result = check_content(
        channel,
        rendered.text,
        policy=policy,
        places=frozenset({"CA"}),
        time_barred=True,
        first_contact=first_contact,
        html=rendered.html,
        unsubscribe_url=ctx.links.unsubscribe,
    )
    assert result.findings == ()
