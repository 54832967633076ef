"""`outreach check` for templates: render each with sample data and run the same content
checks the dispatcher runs before a send (compliance.content), so a template that would be
blocked in production is reported at start-up instead.

On top of the send-time checks, a template must not rely on normalization (characters
outside GSM-7 make an SMS UCS-2 and cost segments), must print the agency's state license
when the debtor's state has one, and may use suit wording only if it declares
`threatens_suit` (then compliance keeps it from time-barred accounts, F18).
"""

from __future__ import annotations

from outreach.compliance import rules
from outreach.compliance.content import check_content
from outreach.compliance.policy import Policy
from outreach.compliance.sms import non_gsm7
from outreach.render.context import TemplateContext, sample_context
from outreach.render.environment import Rendered, Renderer, TemplateError


def check_templates(renderer: Renderer, policy: Policy) -> list[str]:
    """One line per problem found, "NAME: reason (rule)"; [] when every template is clean."""
    errors: list[str] = []
    for name in renderer.template_names():
        channel = name.partition("/")[0]
        try:
            threatens_suit = renderer.meta(name).threatens_suit
        except TemplateError as exc:
            errors.append(str(exc))
            threatens_suit = False
        for first_contact in (True, False):
            ctx = sample_context(channel, first_contact=first_contact)
            try:
                rendered = renderer.render(name, ctx)
            except TemplateError as exc:
                errors.append(str(exc))
                break
            problems = _problems(channel, rendered, ctx, policy, threatens_suit=threatens_suit)
            errors.extend(f"{name}: {p}" for p in problems if f"{name}: {p}" not in errors)
    return errors


def _problems(
    channel: str,
    rendered: Rendered,
    ctx: TemplateContext,
    policy: Policy,
    *,
    threatens_suit: bool,
) -> list[str]:
    # Checked as for a time-barred account: suit wording is only allowed when declared.
    result = check_content(
        channel,
        rendered.text,
        policy=policy,
        time_barred=not threatens_suit,
        first_contact=ctx.first_contact,
        html=rendered.html,
        unsubscribe_url=ctx.links.unsubscribe,
    )
    problems = [
        f"{reason} ({rule})"
        + (" Declare {#- meta: {threatens_suit: true} -#} if it must." if rule == "F18" else "")
        for rule, reason in result.findings
    ]
    if channel == "sms" and (bad := non_gsm7(rendered.text)):
        problems.append(
            f"characters outside GSM-7 make the SMS UCS-2: {''.join(bad)!r} ({rules.SMS_SEGMENTS})"
        )
    license_no = ctx.agency.license
    bodies = (rendered.text, rendered.html or "")
    if license_no and not any(license_no in b for b in bodies):
        problems.append("missing the state license number (agency.license)")
    return problems
