"""Mask phone numbers, emails and account numbers to their last 4 characters, secrets in
URLs and parameters, and the logging set-up that applies it to every line logged (text or
JSON), its traceback included.

Used for everything printed or logged; full values appear only where an agent needs them.
Masking runs on the event loop (uvicorn's access log, our warnings), so it is one linear pass
of one tokenizer: every pattern starts only where its run starts (a look-behind) and never
backtracks (possessive quantifiers), and a logged line is cut to LOG_LINE_LIMIT first.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pythonjsonlogger.json import JsonFormatter

_DATE = r"\d{4}-\d{2}-\d{2}"
_TIME = r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?"
_ZONE = r"(?:Z|[+-]\d{2}(?::?\d{2})?)"
_END = r"(?!\w|[.:]\d)"  # not followed by more of a number
_EMAIL = r"[\w.+-]++(?:@|%40)[\w-]++(?:\.[\w-]++)++"
# Names of parameters whose value is a credential (compared without case or separators).
_SECRET_NAMES = ("token", "secret", "password", "passwd", "apikey", "accesskey", "signature")
_SECRET_NAMES_EXACT = frozenset({"key", "sig", "pwd", "pw", "auth", "accountsid", "session"})

# One alternation, tried where no word character precedes (one look-behind for all): so
# each pattern starts only at the start of its run (an email or name=value also not after
# one of their own ".+-"), and possessive quantifiers never give characters back.
_TOKENS = re.compile(
    rf"""
    (?<!\w)(?:
      (?P<keep>                                   # left readable:
          {_DATE}(?:[T\x20]{_TIME}{_ZONE}?)?{_END}  #   ISO dates and timestamps
        | \d{{8}}T\d{{6}}(?:[.,]\d{{1,9}})?{_ZONE}?{_END}  # their basic form
        | {_TIME}{_ZONE}?{_END}                   #   times
        | \d{{1,5}}\.\d{{1,9}}{_END}                  #   decimals (durations, amounts)
        | \d{{1,3}}(?:\.\d{{1,3}}){{3}}(?!\w|\.\d)       #   IPv4 addresses (a port may follow)
        | (?!AC)[A-Z]{{2}}[0-9a-f]{{32}}(?!\w)         #   Twilio SIDs but the AccountSid
      )
    | (?P<userinfo>(?<=//)[^\s/?#@:]++:[^\s/?#@]*+@)  # scheme://user:password@host
    | (?P<email>(?<![.+-]){_EMAIL})
    | (?P<pgrow>Failing\x20row\x20contains\x20\([^\n]*+)   # PostgreSQL's DETAIL lines: the
    | (?P<pgkey>Key\x20\([^)\n]*+\)=\([^\n]*+)            #   row, a key's value
    | (?P<signed>ey[IJKL][\w-]*+\.[\w-]++\.[\w-]++)  # signed JSON: link tokens, JWTs
    | (?P<bearer>(?:Bearer|Basic)\x20++[\w.~+/=-]++)
    | (?P<pair>(?<![.-])[\w.-]++=[^\s&;,'"<>()\[\]{{}}=]*+)   # name=value
    | (?P<number>\+?(?:\(\d{{1,4}}\)|\d++(?!\w))     # phones in any format: digit groups
          (?:[\x20().-]{{1,3}}+(?!{_DATE}(?!\d)|\d{{1,2}}:\d)\d++(?!\w))*+)
    | (?P<word>(?=\w*?\d{{6}}|AC[0-9a-fA-F]{{32}}(?!\w))\w++)  # account-like; an AccountSid
    )
    """,
    re.VERBOSE,
)
_ADDRESSES = re.compile(rf"(?<![\w.+-]){_EMAIL}|(?<![\w+])\+\d{{8,15}}(?!\w)")
_SIX_DIGITS = re.compile(r"\d{6}")

LOG_LINE_LIMIT = 8192  # characters of one logged line; the rest is dropped, and said so
_MARKER_ROOM = 40


def mask(value: str | None, keep: int = 4) -> str:
    """'+15551234567' -> '********4567'. Short values are fully masked."""
    if not value:
        return ""
    if len(value) <= keep:
        return "*" * len(value)
    return "*" * (len(value) - keep) + value[-keep:]


def _mask_secret(value: str) -> str:
    """A credential keeps its last 4 only when long enough that they give nothing away."""
    return mask(value) if len(value) >= 20 else "*" * len(value)


def _is_secret_name(name: str) -> bool:
    bare = re.sub(r"[^a-z]", "", name.lower())
    return bare in _SECRET_NAMES_EXACT or any(word in bare for word in _SECRET_NAMES)


def _replace(match: re.Match[str]) -> str:
    kind, text = match.lastgroup, match.group(0)
    if kind == "keep":
        return text
    if kind == "userinfo":
        user, _, password = text[:-1].partition(":")
        return f"{mask(user)}:{_mask_secret(password)}@"
    if kind == "pgrow":
        return "Failing row contains (…)"
    if kind == "pgkey":  # "Key (value)=(+15551234567) already exists." -> "...=(********4567) ..."
        key, _, values = text.partition(")=(")
        end = values.rfind(")")
        return f"{key})=({mask(values[:end])}{values[end:]}" if end > 0 else mask(text)
    if kind == "bearer":
        scheme, _, credential = text.partition(" ")
        return f"{scheme} {_mask_secret(credential.lstrip())}"
    if kind == "pair":
        name, _, value = text.partition("=")
        if _is_secret_name(name):
            return f"{name}={_mask_secret(value)}"
        return f"{mask_text(name)}={mask_text(value)}"  # neither holds "=": one level deep
    if kind == "number":
        digits = sum(c.isdigit() for c in text)
        if digits >= 8 or _SIX_DIGITS.search(text):
            return mask(text)
        return text
    return mask(text)  # email, signed, word


def mask_text(text: str) -> str:
    """Mask every email, phone number, account-like number and URL credential inside free
    text; dates, times, IPv4 addresses and decimals stay readable. Linear in the text."""
    return _TOKENS.sub(_replace, text)


def mask_addresses(text: str) -> str:
    """Mask emails and E.164 numbers only: for text outreach wrote itself (decision reasons),
    where dates and times must stay readable and addresses are always normalized."""
    return _ADDRESSES.sub(lambda m: mask(m.group(0)), text)


def mask_log_text(text: str, limit: int = LOG_LINE_LIMIT) -> str:
    """mask_text for a logged text: each line longer than `limit` is cut, with a marker
    saying how much was dropped (a 64 KB request path would otherwise be masked, and
    printed, whole). The cut is masked from a little past it, so no number is cut in two
    before it is masked."""
    if len(text) <= limit:
        return mask_text(text)
    return "\n".join(_bounded_line(line, limit) for line in text.split("\n"))


def _bounded_line(line: str, limit: int) -> str:
    if len(line) <= limit:
        return mask_text(line)
    keep = limit - _MARKER_ROOM
    head = mask_text(line[: keep + 64])[:keep]
    return f"{head}…[{len(line) - keep} characters dropped]"


class MaskingFilter(logging.Filter):
    """A logging filter that masks every record's final message, its traceback and its stack
    (cached on the record as the formatter would, so no handler prints them unmasked)."""

    _plain = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_log_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._plain.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_log_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_log_text(record.stack_info)
        return True


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_log_text(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return value


class _MaskingJsonFormatter(JsonFormatter):
    """One JSON object per line; every field but the fixed ones is masked (the message, a
    traceback, values passed with `extra=`, nested ones too)."""

    _FIXED = frozenset({"timestamp", "level", "logger"})

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {
            key: value if key in self._FIXED else _masked(value) for key, value in log_data.items()
        }


class _SkippedRunFilter(logging.Filter):
    """APScheduler 3 warns each time a job is due while its previous run still runs. With
    max_instances=1 skipping that run is the design (a slow tick is never run twice), not a
    fault; its other warnings (missed runs, job errors) still show."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in str(record.msg)


LOG_FORMATS = ("text", "json")
# Chatty at INFO: the twilio client logs ~8 lines per request (headers, status).
# APScheduler logs a line per job run and per job added; WeasyPrint one per rendering step.
QUIET_LOGGERS = ("twilio", "apscheduler.executors", "apscheduler.scheduler", "weasyprint")
SKIPPED_RUN_LOGGERS = ("apscheduler.scheduler", "apscheduler.executors.default")
_SKIPPED_RUN = _SkippedRunFilter()


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler configure_logging installs; it remembers its format."""

    def __init__(self, log_format: str) -> None:
        super().__init__()
        self.log_format = log_format
        self.addFilter(MaskingFilter())
        if log_format == "json":
            self.setFormatter(
                _MaskingJsonFormatter(
                    "%(levelname)s %(name)s %(message)s",
                    rename_fields={"levelname": "level", "name": "logger"},
                    timestamp=True,
                )
            )
        else:
            self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))


def configure_logging(level: int = logging.INFO, log_format: str | None = None) -> None:
    """Log to stderr, masked, as text lines or JSON objects (`--log-format`). Without a
    format, keep the one an earlier call chose (a command that only changes the level)."""
    if log_format is None:
        current = [h.log_format for h in logging.getLogger().handlers if isinstance(h, _Handler)]
        log_format = current[0] if current else "text"
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}: {log_format!r}")
    root = logging.getLogger()
    root.handlers[:] = [_Handler(log_format)]
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    for name in SKIPPED_RUN_LOGGERS:
        logging.getLogger(name).addFilter(_SKIPPED_RUN)  # once: addFilter skips a duplicate
