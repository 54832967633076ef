"""Renderer mechanics: lookup order, strictness, escaping, errors, filters, SMS encoding."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from outreach.compliance.sms import non_gsm7, sms_segments
from outreach.config.loader import Config
from outreach.render.context import sample_context
from outreach.render.environment import (
    PACKAGE_TEMPLATES,
    Renderer,
    TemplateError,
    css_string,
    longdate,
    money,
    payment_plan,
    period,
    phone,
)
from outreach.render.template_check import check_templates
from tests.conftest import CONFIG_DIR


def write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1234.5"), "$1,234.50"),
        (Decimal("0"), "$0.00"),
        (Decimal("-27.005"), "-$27.01"),
        (1000000, "$1,000,000.00"),
        ("12.345", "$12.35"),
    ],
)
def test_money(value: Decimal | int | str, expected: str) -> None:
    assert money(value) == expected


def test_small_filters() -> None:
    assert longdate(date(2026, 12, 5)) == "December 5, 2026"
    assert phone("+18005550199") == "(800) 555-0199"
    assert phone("+442071234567") == "+442071234567"
    assert period("Acme Bank, N.A.") == "Acme Bank, N.A."
    assert period("Acme Bank") == "Acme Bank."
    assert str(css_string('a"b</style>')) == "a\\22 b\\3c \\2f style\\3e "


@pytest.mark.parametrize(
    ("balance", "months"), [("1234.56", 12), ("1000.00", 3), ("0.05", 12), ("99.99", 6)]
)
def test_payment_plan_adds_up(balance: str, months: int) -> None:
    plan = payment_plan(Decimal(balance), months)
    assert plan.payment * (plan.months - 1) + plan.final_payment == Decimal(balance)
    assert 0 < plan.final_payment <= plan.payment
    assert plan.months <= months


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("[" * 80, 1),  # extension characters count twice
        ("[" * 81, 2),
        ("\u2019" + "a" * 69, 1),  # a curly quote makes it UCS-2: 70 per segment
        ("\u2019" + "a" * 70, 2),
    ],
)
def test_sms_segments(text: str, segments: int) -> None:
    assert sms_segments(text) == segments


def test_non_gsm7() -> None:
    assert non_gsm7("Plain text, $5 @ 10% {ok}") == []
    assert non_gsm7("it\u2019s \u2014 done \U0001f600") == ["\u2014", "\u2019", "\U0001f600"]


def test_strict_undefined_names_the_variable(tmp_path: Path) -> None:
    write(tmp_path, "sms/oops.txt", "Hi {{ debtor.first_name }}.\nYou owe {{ account.nickname }}.")
    renderer = Renderer([tmp_path, PACKAGE_TEMPLATES])
    with pytest.raises(TemplateError) as info:
        renderer.render("sms/oops", sample_context("sms"))
    assert info.value.name == "sms/oops"
    assert info.value.line == 2
    assert "nickname" in str(info.value)
    assert "sms/oops, line 2" in str(info.value)


def test_syntax_error_reports_the_line(tmp_path: Path) -> None:
    write(tmp_path, "sms/broken.txt", "one\n{% if %}two{% endif %}\nthree")
    with pytest.raises(TemplateError) as info:
        Renderer([tmp_path]).render("sms/broken", sample_context("sms"))
    assert info.value.line == 2


def test_missing_template_and_bad_names() -> None:
    renderer = Renderer()
    with pytest.raises(TemplateError, match="not found"):
        renderer.render("sms/no_such_template", sample_context("sms"))
    for bad in ("fax/reminder", "sms", "sms/_base", "sms/../x"):
        with pytest.raises(TemplateError):
            renderer.render(bad, sample_context("sms"))


def test_html_is_escaped_and_text_is_not() -> None:
    base = sample_context("email")
    ctx = replace(base, debtor=replace(base.debtor, first_name="<script>alert(1)</script>"))
    rendered = Renderer().render("email/first_reminder", ctx)
    assert rendered.html is not None
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "Hello <script>alert(1)</script>," in rendered.text
    assert rendered.subject == "Information about your account ****4821"


def test_sandbox_blocks_internals(tmp_path: Path) -> None:
    write(tmp_path, "sms/escape.txt", "{{ debtor.__class__.__mro__ }}")
    with pytest.raises(TemplateError):
        Renderer([tmp_path]).render("sms/escape", sample_context("sms"))


def test_first_directory_wins_and_names_are_merged(tmp_path: Path) -> None:
    write(tmp_path, "sms/reminder.txt", "Override for {{ debtor.first_name }}. {{ SMS_OPT_OUT }}")
    write(tmp_path, "sms/extra.txt", "Extra. {{ mini_miranda() }} {{ SMS_OPT_OUT }}")
    write(tmp_path, "sms/_part.txt", "a part, not a template")
    write(tmp_path, "email/_shared/body.txt", "a part")
    renderer = Renderer([tmp_path, PACKAGE_TEMPLATES])
    assert renderer.render("sms/reminder", sample_context("sms")).text.startswith(
        "Override for Jordan."
    )
    names = renderer.template_names()
    assert "sms/extra" in names and "sms/reminder" in names and "letter/validation_notice" in names
    assert not [n for n in names if n.split("/")[1].startswith("_")]


def test_template_check_reports_broken_and_noncompliant_overrides(tmp_path: Path) -> None:
    write(tmp_path, "sms/reminder.txt", "Hi {{ debtor.first_name }}, pay now. {{ SMS_OPT_OUT }}")
    write(tmp_path, "sms/typo.txt", "{{ mini_miranda() }}\n{{ SMS_OPT_OUT }} {{ acount.balance }}")
    write(tmp_path, "sms/curly.txt", "It\u2019s us. {{ mini_miranda() }} {{ SMS_OPT_OUT }}")
    write(tmp_path, "sms/sue.txt", "We may file a lawsuit. {{ mini_miranda() }} {{ SMS_OPT_OUT }}")
    errors = check_templates(Renderer([tmp_path, PACKAGE_TEMPLATES]), Config(CONFIG_DIR).policy)
    text = "\n".join(errors)
    assert "sms/typo, line 2: 'acount' is undefined" in text
    assert "sms/reminder: A first communication must say it is an attempt to collect" in text
    assert "sms/reminder: The message does not say that it is from a debt collector. (F14)" in text
    assert "sms/curly: characters outside GSM-7" in text
    assert "sms/sue: " in text and "lawsuit" in text and "(F18)" in text
    assert "sms/reminder: missing the state license number" in text
    assert not [e for e in errors if e.startswith(("sms/final_reminder", "letter/", "email/"))]


def test_mapping_context_is_accepted() -> None:
    values = sample_context("sms").as_dict()
    rendered = Renderer().render("sms/reminder", values)
    assert "Jordan" in rendered.text


def test_email_needs_an_unsubscribe_link() -> None:
    ctx = sample_context("sms")  # no unsubscribe link
    with pytest.raises(TemplateError, match="unsubscribe"):
        Renderer().render("email/first_reminder", ctx)


def test_agency_from_settings_picks_the_state_license() -> None:
    from outreach.config.settings import AgencySettings, LetterSettings
    from outreach.render.context import Agency

    settings = AgencySettings(licenses={"CA": "10558-99"})
    assert Agency.from_settings(settings, state="ca").license == "10558-99"
    assert Agency.from_settings(settings, state="TX").license is None
    assert Agency.from_settings(settings).license is None
    letter = LetterSettings(return_address=["PO Box 1000", "Springfield, IL 62701"])
    agency = Agency.from_settings(settings, letter=letter)
    assert agency.return_address == ["PO Box 1000", "Springfield, IL 62701"]
    html = (
        Renderer()
        .render("letter/final_notice", replace(sample_context("letter"), agency=agency))
        .html
    )
    assert html is not None
    window = html.split('class="return-window">')[1].split("</div>")[0]
    assert "Example Recovery" not in window and "PO Box 1000" in window


def test_errors_in_shared_parts_name_the_part(tmp_path: Path) -> None:
    write(
        tmp_path,
        "sms/_base.txt",
        "{{ agency.name }}:\n{% block body %}{% endblock %} {{ agency.fax }}",
    )
    write(
        tmp_path, "sms/child.txt", '{% extends "sms/_base.txt" %}{% block body %}Hi{% endblock %}'
    )
    with pytest.raises(TemplateError) as info:
        Renderer([tmp_path]).render("sms/child", sample_context("sms"))
    assert info.value.line == 2
    assert str(info.value).startswith("sms/child, line 2: sms/_base.txt: ")
    assert "fax" in str(info.value)
