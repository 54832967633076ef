"""The shape of Twilio's webhook forms: which fields it sends, what each looks like, and the
account it must come from. Pure: a list of (key, value) pairs in, a clean dict or a reason out.

Why so strict: Twilio's signature is an HMAC of the URL followed by every key and value
concatenated without separators, so a captured request can be re-cut (characters moved
between `MessageSid` and `MessagingServiceSid`, a key folded into its neighbour's value)
and still carry a valid signature. A SID of the exact format, one value per key, only the
keys Twilio sends and only our `AccountSid` leave no room to re-cut; the one signature per
message that `inbound.apply` keeps covers the rest.

Twilio says it may add parameters without notice: a new one is refused (logged by the
webhook with its name) until the code knows it, or `inbound.twilio_extra_fields` lists it.
Free text (the body, names, button texts) loses NUL characters, which PostgreSQL cannot
store in text and which no phone sends; every other value must match its format.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class FormKind(StrEnum):
    SMS = "sms"  # an incoming message
    STATUS = "status"  # a status callback for a message we sent


class FormRefused(ValueError):
    """The form is not one Twilio sends; the message says why (for the 400). `unknown`: the
    fields Twilio does not send, when that is the reason (it may have added them)."""

    def __init__(self, message: str, unknown: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.unknown = unknown


@dataclass(frozen=True, slots=True)
class _Format:
    pattern: re.Pattern[str] | None  # None: free text (NUL removed)
    max_length: int


def _exact(pattern: str, max_length: int) -> _Format:
    return _Format(re.compile(pattern), max_length)


def _text(max_length: int) -> _Format:
    return _Format(None, max_length)


MESSAGE_SID = re.compile(r"(?:SM|MM)[0-9a-fA-F]{32}")
ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")

_SID = _Format(MESSAGE_SID, 34)
# E.164 or a short code, an alphanumeric sender ID, a channel address (whatsapp:+1...).
_ADDRESS = _exact(
    r"\+?[0-9]{3,15}|[A-Za-z0-9][A-Za-z0-9 ]{0,10}|[a-z]{2,16}:[A-Za-z0-9+._@-]{1,64}", 81
)
_COUNT = _exact(r"\d{1,3}", 3)
_PLACE = _text(128)  # FromCity, ToState...: names, any script
_SHORT_TEXT = _text(1024)
_LONG_TEXT = _text(4096)

_COMMON: dict[str, _Format] = {
    "AccountSid": _Format(ACCOUNT_SID, 34),
    "MessageSid": _SID,
    "SmsSid": _SID,
    "MessagingServiceSid": _Format(SERVICE_SID, 34),
    "From": _ADDRESS,
    "To": _ADDRESS,
    "ApiVersion": _exact(r"\d{4}-\d{2}-\d{2}", 10),
    "SmsStatus": _exact(r"[A-Za-z_-]{1,32}", 32),
    "NumSegments": _COUNT,
}
SMS_FIELDS: dict[str, _Format] = {
    **_COMMON,
    "SmsMessageSid": _SID,
    "Body": _text(64 * 1024),  # up to 1600 characters from Twilio; the body limit bounds it
    "NumMedia": _COUNT,
    "ReferralNumMedia": _COUNT,
    "OptOutType": _exact(r"(?i:STOP|START|HELP)", 5),
    "MessageType": _exact(r"[A-Za-z_-]{1,32}", 32),
    **{f"{side}{part}": _PLACE for side in ("From", "To") for part in ("City", "State", "Zip")},
    "FromCountry": _PLACE,
    "ToCountry": _PLACE,
    # WhatsApp, RCS and click-to-chat referrals
    **{
        name: _SHORT_TEXT
        for name in (
            "ProfileName",
            "WaId",
            "Forwarded",
            "FrequentlyForwarded",
            "ButtonText",
            "ButtonPayload",
            "Latitude",
            "Longitude",
            "Address",
            "Label",
            "ReferralHeadline",
            "ReferralSourceId",
            "ReferralSourceType",
            "ReferralSourceUrl",
            "ReferralMediaId",
            "ReferralMediaContentType",
            "ReferralMediaUrl",
            "ReferralCtwaClid",
            "OriginalRepliedMessageSender",
            "OriginalRepliedMessageSid",
        )
    },
    "ReferralBody": _LONG_TEXT,
    "ChannelMetadata": _LONG_TEXT,
    "AddOns": _LONG_TEXT,
}
STATUS_FIELDS: dict[str, _Format] = {
    **_COMMON,
    "MessageStatus": _exact(r"[A-Za-z_-]{1,32}", 32),
    "ErrorCode": _exact(r"\d{1,10}", 10),
    "ErrorMessage": _SHORT_TEXT,
    "RawDlrDoneDate": _exact(r"\d{1,16}", 16),
    "ChannelPrefix": _exact(r"[A-Za-z_-]{1,32}", 32),
    "ChannelInstallSid": _exact(r"[A-Z]{2}[0-9a-fA-F]{32}", 34),
    "ChannelStatusMessage": _SHORT_TEXT,
    "ChannelToAddress": _SHORT_TEXT,
    "EventType": _exact(r"[A-Za-z_-]{1,32}", 32),
}
# Media: MediaUrl0..MediaUrl9 and MediaContentType0..9 (Twilio takes at most 10 per message).
_MEDIA = re.compile(r"(?:MediaUrl|MediaContentType)\d")
_MEDIA_FORMAT = _text(2048)
_EXTRA_FORMAT = _text(4096)

_FIELDS = {FormKind.SMS: SMS_FIELDS, FormKind.STATUS: STATUS_FIELDS}
_REQUIRED = {
    FormKind.SMS: ("AccountSid", "MessageSid", "From", "Body"),
    FormKind.STATUS: ("AccountSid", "MessageSid"),
}
_SAME_AS_MESSAGE_SID = ("SmsSid", "SmsMessageSid")


def unknown_fields(
    keys: Iterable[str], kind: FormKind, extra: frozenset[str] = frozenset()
) -> list[str]:
    """The keys Twilio does not send to this endpoint (sorted, for the log and the 400)."""
    known = _FIELDS[kind]
    return sorted(
        {k for k in keys if k not in known and k not in extra and not _MEDIA.fullmatch(k)}
    )


def read_form(
    items: Iterable[tuple[str, str]],
    kind: FormKind,
    *,
    account_sid: str,
    extra: frozenset[str] = frozenset(),
) -> dict[str, str]:
    """The form as one value per key, free text without NUL; FormRefused says what is wrong.

    `items` are the form's pairs as sent (duplicates included), after the signature check.
    """
    pairs = list(items)
    duplicated = sorted(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
    if duplicated:
        raise FormRefused(f"duplicated form field(s): {', '.join(_shown(duplicated))}")
    if unknown := unknown_fields((k for k, _ in pairs), kind, extra):
        raise FormRefused(f"unknown form field(s): {', '.join(_shown(unknown))}", tuple(unknown))
    form: dict[str, str] = {}
    known = _FIELDS[kind]
    for key, value in pairs:
        spec = known.get(key) or (_MEDIA_FORMAT if _MEDIA.fullmatch(key) else _EXTRA_FORMAT)
        form[key] = _checked(key, value, spec)
    missing = [k for k in _REQUIRED[kind] if k not in form or (k != "Body" and not form[k])]
    if missing:
        raise FormRefused(f"missing form field(s): {', '.join(missing)}")
    if form["AccountSid"] != account_sid:
        raise FormRefused("AccountSid is not this installation's Twilio account")
    for key in _SAME_AS_MESSAGE_SID:
        if key in form and form[key] != form["MessageSid"]:
            raise FormRefused(f"{key} differs from MessageSid")
    if kind is FormKind.STATUS and not (form.get("MessageStatus") or form.get("SmsStatus")):
        raise FormRefused("missing form field(s): MessageStatus")
    return form


def _checked(key: str, value: str, spec: _Format) -> str:
    if len(value) > spec.max_length:
        raise FormRefused(f"{key}: longer than {spec.max_length} characters")
    if spec.pattern is None:
        return value.replace("\x00", "")
    if value and not spec.pattern.fullmatch(value):
        raise FormRefused(f"{key}: not in Twilio's format")
    return value


def _shown(keys: list[str], limit: int = 10) -> list[str]:
    """Field names for a message: a few, each cut short (they come from the caller)."""
    shown = [k[:40].encode("unicode_escape").decode("ascii") for k in keys[:limit]]
    return shown + ([f"... ({len(keys) - limit} more)"] if len(keys) > limit else [])


__all__ = [
    "ACCOUNT_SID",
    "MESSAGE_SID",
    "SERVICE_SID",
    "SMS_FIELDS",
    "STATUS_FIELDS",
    "FormKind",
    "FormRefused",
    "read_form",
    "unknown_fields",
]
