"""The shipped templates: every one renders, and carries what the rules require (F11, F14, F16)."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal

import pytest

from outreach.compliance.sms import non_gsm7, sms_segments
from outreach.config.loader import Config
from outreach.render.context import TemplateContext, sample_context
from outreach.render.environment import (
    MINI_MIRANDA,
    MINI_MIRANDA_FIRST,
    SMS_OPT_OUT,
    Renderer,
    TemplateError,
)
from outreach.render.template_check import check_templates
from tests.conftest import CONFIG_DIR

RENDERER = Renderer()
NAMES = RENDERER.template_names()
SMS = [n for n in NAMES if n.startswith("sms/")]
EMAIL = [n for n in NAMES if n.startswith("email/")]
LETTERS = [n for n in NAMES if n.startswith("letter/")]


def ctx_for(name: str, **changes: object) -> TemplateContext:
    return replace(sample_context(name.partition("/")[0]), **changes)  # type: ignore[arg-type]


def plain(html: str) -> str:
    """Text content of an HTML document, whitespace collapsed."""
    text = re.sub(r"<style.*?</style>|<[^>]+>", " ", html, flags=re.S)
    return " ".join(text.replace("&amp;", "&").split())


def test_the_campaign_templates_exist() -> None:
    assert NAMES == [
        "email/first_reminder",
        "email/hardship_offer",
        "email/hardship_plan",
        "email/second_reminder",
        "letter/final_notice",
        "letter/hardship_plan",
        "letter/validation_notice",
        "sms/final_reminder",
        "sms/hardship_checkin",
        "sms/promise_followup",
        "sms/reminder",
    ]


def test_every_shipped_template_passes_the_send_time_content_checks() -> None:
    assert check_templates(RENDERER, Config(CONFIG_DIR).policy) == []


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("first_contact", [True, False])
def test_every_template_carries_the_mini_miranda(name: str, first_contact: bool) -> None:
    rendered = RENDERER.render(name, ctx_for(name, first_contact=first_contact))
    body = rendered.text if name.startswith("sms/") else plain(rendered.html or "")
    if name.startswith("sms/"):
        assert (MINI_MIRANDA_FIRST if first_contact else MINI_MIRANDA) in body
    else:  # letters and email always carry both sentences
        assert MINI_MIRANDA in body and MINI_MIRANDA_FIRST in body
    if name.startswith("email/"):
        assert MINI_MIRANDA in rendered.text and MINI_MIRANDA_FIRST in rendered.text


@pytest.mark.parametrize("name", SMS)
@pytest.mark.parametrize("first_contact", [True, False])
def test_sms_opt_out_and_encoding(name: str, first_contact: bool) -> None:
    text = RENDERER.render(name, ctx_for(name, first_contact=first_contact)).text
    assert text.endswith(SMS_OPT_OUT)
    assert non_gsm7(text) == []
    assert sms_segments(text) <= (3 if first_contact else 2)
    assert "\n" not in text and "  " not in text


@pytest.mark.parametrize("name", EMAIL)
def test_email_has_subject_and_visible_unsubscribe(name: str) -> None:
    ctx = ctx_for(name)
    rendered = RENDERER.render(name, ctx)
    link = ctx.links.unsubscribe
    assert link
    assert rendered.subject and "\n" not in rendered.subject
    assert f"unsubscribe here: {link}" in rendered.text
    assert rendered.html is not None
    assert f'href="{link}"' in rendered.html and "unsubscribe here" in plain(rendered.html)


@pytest.mark.parametrize("name", NAMES)
def test_license_printed_only_when_set(name: str) -> None:
    ctx = ctx_for(name)
    with_license = RENDERER.render(name, ctx)
    assert "CA license no. 10558-99" in with_license.text + (with_license.html or "")
    without = RENDERER.render(name, replace(ctx, agency=replace(ctx.agency, license=None)))
    assert "10558-99" not in without.text + (without.html or "")
    assert "license no." not in (without.text + (without.html or "")).lower()


@pytest.mark.parametrize("name", NAMES)
def test_no_threats_of_suit(name: str) -> None:
    """F18: time-barred accounts get the same templates, so none may mention suing."""
    rendered = RENDERER.render(name, ctx_for(name))
    words = (rendered.subject or "") + rendered.text + plain(rendered.html or "")
    for phrase in ("legal action", "lawsuit", "sue you", "court", "garnish", "judgment against"):
        assert phrase not in words.lower()


def test_validation_notice_content() -> None:
    """F16 and Model Form B-1: the parts a validation notice must have."""
    ctx = sample_context("letter")
    html = RENDERER.render("letter/validation_notice", ctx).html
    assert html is not None
    text = plain(html)
    for needed in [
        "Example Recovery Services LLC is a debt collector.",
        "you owe to Acme Bank, N.A. We will use",
        "You had an account from Summit Card Services with account number ****4821.",
        "As of September 30, 2026, you owed: $1,184.20",
        "You were charged this amount in interest: + $42.36",
        "You were charged this amount in fees: + $35.00",
        "You paid or were credited this amount toward the debt: &minus; $27.00",
        "Total amount of the debt now: $1,234.56",
        "Call or write to us by January 21, 2027, to dispute all or part of the debt.",
        "How can you dispute the debt?",
        "What else can you do?",
        "www.cfpb.gov/debt-collection",
        "How do you want to respond?",
        "This is not my debt.",
        "The amount is wrong.",
        "Other (please describe on reverse or attach additional information).",
        "I want you to send me the name and address of the original creditor.",
        "I enclosed this amount:",
        "Mail this form to:",
        "Jordan A. Rivera 1428 Elm Street, Apt 3B Fresno, CA 93721",
        "Notice for California residents",
    ]:
        assert needed in text, needed


def test_validation_notice_refuses_numbers_that_do_not_add_up() -> None:
    ctx = sample_context("letter")
    wrong = replace(ctx, account=replace(ctx.account, balance=Decimal("999.00")))
    with pytest.raises(TemplateError, match="does not add up"):
        RENDERER.render("letter/validation_notice", wrong)


def test_validation_rights_only_while_the_period_runs() -> None:
    ctx = sample_context("email")
    during = RENDERER.render("email/second_reminder", ctx).text
    assert "until January 21, 2027" in during
    later = replace(ctx, today=ctx.validation.period_ends.replace(year=2027, month=3))
    assert "dispute all or part" not in RENDERER.render("email/second_reminder", later).text


@pytest.mark.parametrize("name", LETTERS)
def test_letters_are_print_ready_and_self_contained(name: str) -> None:
    html = RENDERER.render(name, ctx_for(name)).html
    assert html is not None
    assert "size: letter" in html and "counter(pages)" in html
    assert "http://" not in html.split("</style>")[0]  # no network resources in the CSS
    assert "<img" not in html and "<link" not in html
    assert "Jordan A. Rivera" in html and "Fresno, CA 93721" in html


def test_hardship_plan_numbers_add_up() -> None:
    text = plain(RENDERER.render("letter/hardship_plan", sample_context("letter")).html or "")
    assert "12 monthly payments of $102.88" in text
    assert "6 monthly payments of $205.76" in text


@pytest.mark.parametrize("name", NAMES)
def test_sparse_data_renders(name: str) -> None:
    """No original creditor, no state, no license, validation period over: still renders."""
    ctx = ctx_for(name)
    sparse = replace(
        ctx,
        account=replace(ctx.account, original_creditor=None, state=None, due_date=None),
        agency=replace(ctx.agency, license=None),
        today=ctx.validation.period_ends.replace(year=2028),
    )
    rendered = RENDERER.render(name, sparse)
    body = rendered.text + (rendered.html or "")
    assert "None" not in plain(body)
    assert "Notice for California residents" not in body
