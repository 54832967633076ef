"""Render message templates (sms, email, letter) with Jinja2, sandboxed and strict.

Templates live in directories searched in order, so operations can override a shipped template
by dropping a file of the same name into `config/templates/`. One Environment per Renderer keeps
compiled templates cached: the dispatcher renders thousands of sms/email messages a second.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, NoReturn

import jinja2
import yaml
from jinja2 import FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, ValidationError

from outreach.render.context import (
    Account,
    Agency,
    Debtor,
    Itemization,
    Links,
    TemplateContext,
    Validation,
)

PACKAGE_TEMPLATES = Path(__file__).parent.parent / "templates"

# F14: the first communication says both; later ones at least the second.
MINI_MIRANDA_FIRST = (
    "This is an attempt to collect a debt"
    " and any information obtained will be used for that purpose."
)
MINI_MIRANDA = "This communication is from a debt collector."
SMS_OPT_OUT = "Reply STOP to opt out."  # F11, T4


class TemplateError(Exception):
    """A template failed to load or render; says which template, where, and why."""

    def __init__(self, name: str, line: int | None, message: str) -> None:
        self.name = name
        self.line = line
        self.message = message
        where = f"{name}, line {line}" if line is not None else name
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str | None
    text: str
    html: str | None


class TemplateMeta(BaseModel):
    """What a template declares about itself, in a Jinja comment that opens its main file
    (sms/NAME.txt, email/NAME/body.txt, letter/NAME.html):

        {#- meta: {threatens_suit: true} -#}

    The comment renders to nothing; a template without one declares the defaults.
    `threatens_suit`: the message threatens legal action; compliance never sends it for a
    time-barred account (F18).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    threatens_suit: bool = False


_META = re.compile(r"\A\s*\{#-?\s*meta:(?P<yaml>.*?)-?#\}", re.DOTALL)


@dataclass(frozen=True, slots=True)
class PaymentPlan:
    """Equal monthly payments rounded up to the cent; the last one absorbs the difference."""

    months: int
    payment: Decimal
    final_payment: Decimal


# --- filters and globals ----------------------------------------------------------------------

_CENT = Decimal("0.01")


def money(value: Decimal | int | float | str) -> str:
    amount = Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def longdate(value: date | datetime) -> str:
    return f"{value:%B} {value.day}, {value.year}"


def phone(value: str) -> str:
    """+18005550199 -> (800) 555-0199; anything else unchanged."""
    digits = value[2:] if value.startswith("+1") else value
    if len(digits) == 10 and digits.isdigit():
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return value


def period(value: str) -> str:
    """End a sentence once: "Acme Bank, N.A." stays, "Acme Bank" gets its full stop."""
    return value if value.endswith((".", "!", "?")) else f"{value}."


def css_string(value: str) -> Markup:
    """Text safe inside a CSS string in a <style> block (where HTML escaping does not apply)."""
    return Markup("".join(c if c.isalnum() or c in " *#-_,." else f"\\{ord(c):x} " for c in value))


def payment_plan(balance: Decimal | int | str, months: int) -> PaymentPlan:
    total = Decimal(str(balance)).quantize(_CENT, rounding=ROUND_HALF_UP)
    if months < 1 or total <= 0:
        raise ValueError(f"no payment plan for {money(total)} over {months} months")
    while True:
        payment = (total / months).quantize(_CENT, rounding=ROUND_CEILING)
        final = total - payment * (months - 1)
        if final > 0 or months == 1:  # tiny balances: fewer payments, never a zero one
            return PaymentPlan(months=months, payment=payment, final_payment=final)
        months -= 1


@pass_context
def mini_miranda(ctx: Context, full: bool = False) -> str:
    """The F14 disclosure. `full` (letters, email): both sentences. Otherwise (SMS, where every
    character counts) the first-contact sentence on a first contact, else the short one."""
    if full:
        return f"{MINI_MIRANDA} {MINI_MIRANDA_FIRST}"
    return MINI_MIRANDA_FIRST if ctx.get("first_contact") else MINI_MIRANDA


@pass_context
def license_line(ctx: Context) -> str:
    """The state license (e.g. CA Civ. Code 1788.11), or "" where none applies."""
    agency = ctx.get("agency")
    number = getattr(agency, "license", None)
    if not number:
        return ""
    account = ctx.get("account")
    state = getattr(account, "state", None)
    return f"{state} license no. {number}" if state else f"License no. {number}"


def fail(message: str) -> NoReturn:
    """Let a template refuse data it must not send (e.g. an itemization that doesn't add up)."""
    raise ValueError(message)


# --- the renderer --------------------------------------------------------------------------------

_WS = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n{3,}")


def _files_for(name: str) -> tuple[str | None, str, str | None]:
    """(subject, text, html) template files for a template name."""
    channel, _, rest = name.partition("/")
    if not rest or "/" in rest or rest.startswith((".", "_")):
        raise TemplateError(name, None, "names look like sms/NAME, email/NAME or letter/NAME")
    if channel == "sms":
        return None, f"sms/{rest}.txt", None
    if channel == "email":
        return f"email/{rest}/subject.txt", f"email/{rest}/body.txt", f"email/{rest}/body.html"
    if channel == "letter":
        return None, "", f"letter/{rest}.html"
    raise TemplateError(name, None, f"unknown channel {channel!r} (expected sms, email or letter)")


def _where(exc: BaseException) -> tuple[int | None, str]:
    """Line (and, for shared parts, file) of the innermost template frame in the traceback.

    Jinja rewrites tracebacks so template frames carry the template file and line.
    """
    line, part = None, ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith((".txt", ".html")):
            line = frame.lineno
            path = Path(frame.filename)
            part = f"{path.parent.name}/{path.name}: " if path.name.startswith("_") else ""
    return line, part


class _Environment(SandboxedEnvironment):
    """The sandbox, with a fast path for the plain frozen dataclasses of the render context.

    Their public attributes are data, so the per-access safety checks (which dominate the
    cost of rendering an email) can be skipped for them; everything else stays checked.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) in _PLAIN_DATA and not attribute.startswith("_"):
            try:
                return getattr(obj, attribute)
            except AttributeError:
                pass
        return super().getattr(obj, attribute)


_PLAIN_DATA: frozenset[type] = frozenset(
    {Debtor, Account, Itemization, Agency, Validation, Links, PaymentPlan}
)


class Renderer:
    def __init__(self, template_dirs: Sequence[Path] | None = None) -> None:
        dirs = list(template_dirs) if template_dirs else [PACKAGE_TEMPLATES]
        self.template_dirs = [Path(d) for d in dirs]
        self.env = _Environment(
            loader=FileSystemLoader([str(d) for d in self.template_dirs]),
            undefined=StrictUndefined,
            autoescape=select_autoescape(["html"], default_for_string=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            auto_reload=False,
            cache_size=-1,
        )
        self.env.filters.update(
            money=money, longdate=longdate, phone=phone, period=period, css_string=css_string
        )
        self.env.globals.update(
            mini_miranda=mini_miranda,
            license_line=license_line,
            payment_plan=payment_plan,
            fail=fail,
            MINI_MIRANDA=MINI_MIRANDA,
            MINI_MIRANDA_FIRST=MINI_MIRANDA_FIRST,
            SMS_OPT_OUT=SMS_OPT_OUT,
        )
        self._compiled: dict[str, tuple[jinja2.Template | None, ...]] = {}
        self._meta: dict[str, TemplateMeta] = {}

    # Loading --------------------------------------------------------------------------------

    def _load(self, name: str) -> tuple[jinja2.Template | None, ...]:
        cached = self._compiled.get(name)
        if cached is not None:
            return cached
        subject_file, text_file, html_file = _files_for(name)
        required = {text_file or html_file}
        if name.startswith("email/"):
            required.add(subject_file)
        loaded: list[jinja2.Template | None] = []
        for file in (subject_file, text_file, html_file):
            if not file:
                loaded.append(None)
                continue
            try:
                loaded.append(self.env.get_template(file))
            except jinja2.TemplateNotFound as exc:
                if file in required or exc.name != file:
                    raise TemplateError(name, None, f"template file not found: {exc.name}") from exc
                loaded.append(None)
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateError(name, exc.lineno, f"{exc.name or file}: {exc.message}") from exc
        result = tuple(loaded)
        self._compiled[name] = result
        return result

    def meta(self, name: str) -> TemplateMeta:
        """The template's declared metadata (see TemplateMeta), read once and cached."""
        cached = self._meta.get(name)
        if cached is not None:
            return cached
        _, text_file, html_file = _files_for(name)
        file = text_file or html_file or ""
        try:
            source, _, _ = self.env.loader.get_source(self.env, file)  # type: ignore[union-attr]
        except jinja2.TemplateNotFound as exc:
            raise TemplateError(name, None, f"template file not found: {exc.name}") from exc
        found = _META.match(source)
        try:
            data = yaml.safe_load(found.group("yaml")) if found else None
            meta = TemplateMeta.model_validate(data or {})
        except (yaml.YAMLError, ValidationError) as exc:
            raise TemplateError(name, 1, f"{file}: bad meta comment: {exc}") from exc
        self._meta[name] = meta
        return meta

    def template_names(self) -> list[str]:
        """Every renderable template across all directories (names starting with _ are parts)."""
        names: set[str] = set()
        for root in self.template_dirs:
            names.update(
                f"sms/{p.stem}" for p in (root / "sms").glob("*.txt") if not p.stem.startswith("_")
            )
            names.update(
                f"email/{p.parent.name}"
                for p in (root / "email").glob("*/body.txt")
                if not p.parent.name.startswith("_")
            )
            names.update(
                f"letter/{p.stem}"
                for p in (root / "letter").glob("*.html")
                if not p.stem.startswith("_")
            )
        return sorted(names)

    # Rendering ------------------------------------------------------------------------------

    def render(self, template: str, context: TemplateContext | Mapping[str, Any]) -> Rendered:
        subject_t, text_t, html_t = self._load(template)
        values = context.as_dict() if isinstance(context, TemplateContext) else context
        try:
            subject = _WS.sub(" ", subject_t.render(values)).strip() if subject_t else None
            text = text_t.render(values) if text_t else ""
            html = html_t.render(values) if html_t else None
        except jinja2.TemplateError as exc:
            line, part = _where(exc)
            raise TemplateError(template, line, part + (exc.message or str(exc))) from exc
        except (ValueError, TypeError, ArithmeticError, AttributeError, KeyError) as exc:
            line, part = _where(exc)
            raise TemplateError(template, line, f"{part}{exc}") from exc
        if template.startswith("sms/"):
            text = _WS.sub(" ", text).strip()  # authors wrap lines; an SMS is one paragraph
        elif text:
            text = _BLANK_LINES.sub("\n\n", text).strip() + "\n"
        return Rendered(subject=subject, text=text, html=html)


def renderer_for(config_dir: Path | None) -> Renderer:
    """Operations' overrides in `config/templates/` first, then the shipped templates."""
    dirs = [PACKAGE_TEMPLATES]
    if config_dir is not None and (config_dir / "templates").is_dir():
        dirs.insert(0, config_dir / "templates")
    return Renderer(dirs)


__all__: list[str] = [
    "MINI_MIRANDA",
    "MINI_MIRANDA_FIRST",
    "SMS_OPT_OUT",
    "PaymentPlan",
    "Rendered",
    "Renderer",
    "TemplateError",
    "TemplateMeta",
    "longdate",
    "money",
    "phone",
    "renderer_for",
]
