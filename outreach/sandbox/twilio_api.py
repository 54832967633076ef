"""A local stand-in for Twilio's Messages API, enough for the real `twilio` client to talk to.

It speaks Twilio's wire format (form-encoded create, Basic auth, JSON resources and errors),
answers Twilio's magic test numbers, and records every accepted request as a JSON line so the
demo and tests can see exactly what left outreach. Creates can be refused or answered late on
request (`faults`, driven over HTTP by `sandbox.admin`); fetching a message never is.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import math
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from outreach.config.settings import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN
from outreach.sandbox.faults import Fault, FaultInjector

API_VERSION = "2010-04-01"
REQUESTS_FILE = "twilio_requests.jsonl"
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")

# Twilio's magic "To" numbers (test credentials), plus one of ours for opt-outs.
MAGIC_TO_ERRORS: dict[str, tuple[int, str]] = {
    "+15005550001": (21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
    "+15005550010": (21610, "Attempt to send to unsubscribed recipient"),
}

# GSM 03.38: the basic set costs one septet, the extension set two (escape + char).
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = frozenset("^{}\\[]~|€\f")


def sms_segments(body: str) -> int:
    """Segments Twilio bills for `body`: GSM-7 160/153, else UCS-2 70/67 (UTF-16 units)."""
    if all(c in _GSM_BASIC or c in _GSM_EXTENSION for c in body):
        units = sum(2 if c in _GSM_EXTENSION else 1 for c in body)
        single, multi = 160, 153
    else:
        units = len(body.encode("utf-16-le")) // 2
        single, multi = 70, 67
    if units <= single:
        return 1
    return -(-units // multi)


class TwilioSandboxStore:
    """What the sandbox has accepted, on disk (JSON lines) and in memory, plus its faults."""

    def __init__(
        self,
        dir: Path,
        account_sid: str = SANDBOX_ACCOUNT_SID,
        auth_token: str = SANDBOX_AUTH_TOKEN,
        *,
        faults: FaultInjector | None = None,
    ) -> None:
        self.dir = Path(dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / REQUESTS_FILE
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.requests: list[dict[str, Any]] = []
        self.messages: dict[str, dict[str, Any]] = {}
        self.faults = faults if faults is not None else FaultInjector()

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int = 503,
        code: int | None = None,
        message: str = "",
        retry_after: float | None = None,
    ) -> None:
        """Answer the next `n` creates with this error instead of accepting them."""
        self.faults.fail_next(n, twilio_fault(status, code, message, retry_after))

    def delay_next(self, n: int = 1, *, seconds: float) -> None:
        """Accept the next `n` creates but answer only after `seconds`: a lost response."""
        self.faults.delay_next(n, seconds)

    @property
    def pending_faults(self) -> int:
        return self.faults.pending_failures

    def record(self, method: str, path: str, form: Mapping[str, str], sid: str) -> None:
        entry = {
            "method": method,
            "path": path,
            "form": dict(form),
            "received": datetime.now(UTC).isoformat(),
            "sid": sid,
        }
        self.requests.append(entry)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.faults.note_accepted()


def twilio_fault(
    status: int, code: int | None = None, message: str = "", retry_after: float | None = None
) -> Fault:
    """An injected Twilio error; `code` defaults to the status, as Twilio's 429/5xx bodies do."""
    return Fault(
        status, code if code is not None else status, message or "Injected fault", retry_after
    )


def twilio_error(
    status: int, code: int, message: str, *, retry_after: float | None = None
) -> JSONResponse:
    """Twilio's error body, which the twilio client turns into a `TwilioRestException`;
    `retry_after` adds a `Retry-After` header in whole seconds (rounded up)."""
    headers = {"Retry-After": str(math.ceil(retry_after))} if retry_after is not None else None
    return JSONResponse(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
        headers=headers,
    )


def _credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def _rfc2822(moment: datetime) -> str:
    return format_datetime(moment)  # "Tue, 04 Jun 2024 14:03:05 +0000", as Twilio writes it


def _validate(form: Mapping[str, str]) -> JSONResponse | None:
    to = form.get("To", "")
    if not to:
        return twilio_error(400, 21604, "A 'To' phone number is required.")
    if to in MAGIC_TO_ERRORS:
        code, message = MAGIC_TO_ERRORS[to]
        return twilio_error(400, code, message)
    if not _E164.match(to):
        return twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if not form.get("From") and not form.get("MessagingServiceSid"):
        return twilio_error(400, 21603, "A 'From' phone number is required.")
    body = form.get("Body", "")
    if not body:
        return twilio_error(400, 21602, "Message body is required.")
    if len(body) > 1600:
        return twilio_error(
            400, 21617, "The concatenated message body exceeds the 1600 character limit."
        )
    return None


def _resource(account_sid: str, sid: str, form: Mapping[str, str]) -> dict[str, Any]:
    now = _rfc2822(datetime.now(UTC))
    uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json"
    service = form.get("MessagingServiceSid") or None
    return {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": form["Body"],
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form.get("From") or None,
        "messaging_service_sid": service,
        "num_media": "0",
        "num_segments": str(sms_segments(form["Body"])),
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        # With only a Messaging Service, Twilio picks the sender later: "accepted".
        "status": "queued" if form.get("From") else "accepted",
        "subresource_uris": {"media": uri.removesuffix(".json") + "/Media.json"},
        "to": form["To"],
        "uri": uri,
    }


def twilio_sandbox_router(store: TwilioSandboxStore) -> APIRouter:
    router = APIRouter(prefix=f"/{API_VERSION}/Accounts/{{account_sid}}", tags=["sandbox"])

    def authorize(request: Request, account_sid: str) -> JSONResponse | None:
        if _credentials(request) != (store.account_sid, store.auth_token):
            return twilio_error(401, 20003, "Authenticate")
        if account_sid != store.account_sid:
            return twilio_error(
                404, 20404, f"The requested resource {request.url.path} was not found"
            )
        return None

    @router.post("/Messages.json")
    async def create_message(account_sid: str, request: Request) -> JSONResponse:
        if (denied := authorize(request, account_sid)) is not None:
            return denied
        if (fault := store.faults.take_fault()) is not None:
            return twilio_error(
                fault.status, fault.code, fault.message, retry_after=fault.retry_after
            )
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        if (invalid := _validate(form)) is not None:
            return invalid
        sid = "SM" + secrets.token_hex(16)
        resource = _resource(account_sid, sid, form)
        store.messages[sid] = resource
        store.record("POST", request.url.path, form, sid)
        if delay := store.faults.take_delay():
            await asyncio.sleep(delay)
        return JSONResponse(resource, status_code=201)

    @router.get("/Messages/{sid}.json")
    async def fetch_message(account_sid: str, sid: str, request: Request) -> JSONResponse:
        if (denied := authorize(request, account_sid)) is not None:
            return denied
        if sid not in store.messages:
            return twilio_error(
                404, 20404, f"The requested resource {request.url.path} was not found"
            )
        return JSONResponse(store.messages[sid])

    return router
