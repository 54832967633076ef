"""Twilio webhooks: inbound SMS (answered with TwiML) and message status callbacks.

Every request must carry a valid X-Twilio-Signature for the URL Twilio called: the public
base URL (OUTREACH_PUBLIC_URL / public_url) plus the path and query. Behind a reverse proxy
that sets X-Forwarded-Proto/Host, `web.trust_proxy = true` uses those instead; without
that setting they are ignored, or a caller could pick the URL being checked. Missing or bad
signature, or a signature already used by another message: 403, logged. Then the form must
be one Twilio sends (inbound.twilio_form: our AccountSid, SIDs of Twilio's format, known
fields, each once): otherwise 400 with the reason, nothing stored.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from outreach.inbound.apply import SignatureReused, handle_sms
from outreach.inbound.handler import InboundServices, InboundSms
from outreach.inbound.replies import ReplyRenderer
from outreach.inbound.status import UnknownStatus, record_status
from outreach.inbound.twilio_form import FormKind, FormRefused, read_form
from outreach.masking import mask
from outreach.runtime import Runtime

log = logging.getLogger(__name__)

# The body's size is limited for every route on the stream (web.body_limit, [web.body_limits]).
# The query is ours (the URL configured at Twilio): a long one is no webhook of ours, and the
# signature check would parse all of it first.
MAX_QUERY_CHARS = 2048
FORM_TYPE = "application/x-www-form-urlencoded"


def signed_url(request: Request, public_url: str, *, trust_proxy: bool) -> str:
    """The URL Twilio signed: where it was told to call us, not where we happen to listen."""
    base = public_url.rstrip("/")
    forwarded_host = request.headers.get("x-forwarded-host")
    if trust_proxy and forwarded_host:
        proto = request.headers.get("x-forwarded-proto", request.url.scheme)
        base = f"{proto.split(',')[0].strip()}://{forwarded_host.split(',')[0].strip()}"
    url = base + request.url.path
    return f"{url}?{request.url.query}" if request.url.query else url


def twiml(replies: tuple[str, ...]) -> Response:
    response = MessagingResponse()
    for text in replies:
        response.message(text)
    return Response(str(response), media_type="application/xml")


def twilio_webhooks_router(runtime: Runtime) -> APIRouter:
    config = runtime.config
    settings = config.file.inbound
    account_sid, token = config.twilio_credentials
    validator = RequestValidator(token)
    extra_fields = frozenset(settings.twilio_extra_fields)
    services = InboundServices(
        settings,
        ReplyRenderer.for_settings(runtime.renderer, config.file.agency, settings),
        runtime.links,
    )
    router = APIRouter(prefix="/webhooks/twilio", tags=["webhooks"])

    async def signed_form(request: Request, kind: FormKind) -> tuple[dict[str, str], str]:
        """The form's fields and the signature, once the signature over them has been
        checked and the form found to be one Twilio sends."""
        where = f"{request.url.path} from {request.client.host if request.client else '?'}"
        if len(request.url.query) > MAX_QUERY_CHARS:
            log.warning(
                "twilio webhook %s: query over %d characters: refused", where, MAX_QUERY_CHARS
            )
            raise HTTPException(414, f"query string over {MAX_QUERY_CHARS} characters")
        signature = request.headers.get("x-twilio-signature")
        if not signature:
            log.warning("twilio webhook %s: no X-Twilio-Signature: refused", where)
            raise HTTPException(403, "missing X-Twilio-Signature")
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM_TYPE:
            raise HTTPException(400, f"the body must be {FORM_TYPE}")
        try:
            form = await request.form()
        except Exception as exc:  # python-multipart raises several types for bad input
            raise HTTPException(400, f"unreadable form: {exc}") from exc
        url = signed_url(request, config.public_url, trust_proxy=config.file.web.trust_proxy)
        # Over every value as sent, duplicates included (the validator reads getlist()).
        if not validator.validate(url, form, signature):
            log.warning("twilio webhook %s: bad signature for %s: refused", where, url)
            raise HTTPException(403, "invalid X-Twilio-Signature")
        pairs = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
        try:
            fields = read_form(pairs, kind, account_sid=account_sid, extra=extra_fields)
        except FormRefused as exc:
            if unknown := exc.unknown:
                # Twilio adds fields without notice: say which, so they can be allowed.
                log.error(
                    "twilio webhook %s: refused for field(s) Twilio may have added: %s"
                    " (list them in inbound.twilio_extra_fields to accept them)",
                    where,
                    ", ".join(repr(k[:40]) for k in unknown[:10]),
                )
            else:
                log.warning("twilio webhook %s: refused: %s", where, exc)
            raise HTTPException(400, str(exc)) from exc
        return fields, signature

    async def signed_sms(request: Request) -> tuple[dict[str, str], str]:
        return await signed_form(request, FormKind.SMS)

    async def signed_status(request: Request) -> tuple[dict[str, str], str]:
        return await signed_form(request, FormKind.STATUS)

    # Annotated aliases defined here would not resolve (postponed annotations), so the
    # dependencies are given as defaults.
    sms_form, status_form = Depends(signed_sms), Depends(signed_status)

    @router.post("/sms")
    def inbound_sms(signed_request: tuple[dict[str, str], str] = sms_form) -> Response:
        form, signature = signed_request
        sid, sender = form["MessageSid"], form["From"]
        sms = InboundSms(
            sid=sid,
            from_=sender,
            to=form.get("To") or None,
            body=form["Body"],
            opt_out_type=(form.get("OptOutType") or "").upper() or None,
            form=form,
            signature=signature,
        )
        try:
            outcome = handle_sms(runtime.factory, runtime.clock.now(), sms, services)
        except SignatureReused as exc:
            log.warning("inbound sms %s from %s: %s: refused", sid, mask(sender), exc)
            raise HTTPException(403, f"X-Twilio-Signature already used: {exc}") from exc
        if outcome.replayed:
            log.info("inbound sms %s from %s: replay, nothing changed", sid, mask(sender))
        return twiml(outcome.replies)

    @router.post("/status")
    def status_callback(signed_request: tuple[dict[str, str], str] = status_form) -> Response:
        form, _ = signed_request
        sid = form["MessageSid"]
        status = form.get("MessageStatus") or form.get("SmsStatus") or ""
        try:
            with runtime.factory.begin() as session:
                record_status(
                    session,
                    runtime.clock.now(),
                    sid=sid,
                    status=status,
                    error_code=form.get("ErrorCode") or None,
                )
        except UnknownStatus as exc:
            log.warning("status callback for %s: %s: ignored", sid, exc)
        return Response(status_code=200)

    return router
