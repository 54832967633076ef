"""Twilio webhooks: inbound SMS (answered with TwiML) and message status callbacks.

Every request must carry a valid X-Twilio-Signature for the URL Twilio called: the public
base URL (OUTREACH_PUBLIC_URL / public_url) plus the path and query. Behind a reverse proxy
that sets X-Forwarded-Proto/Host, `inbound.trust_proxy = true` uses those instead; without
that setting they are ignored, or a caller could pick the URL being checked. Missing or bad
signature: 403, logged. Not a form, or a required field missing: 400 naming the field.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from sqlalchemy.exc import IntegrityError
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from outreach.inbound.apply import InboundServices, InboundSms, SmsOutcome, handle_sms, replay
from outreach.inbound.replies import ReplyRenderer
from outreach.inbound.status import UnknownStatus, record_status
from outreach.masking import mask
from outreach.render.context import Agency
from outreach.runtime import Runtime

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024  # Twilio's largest form is a few KB; a 1600-char body fits easily
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
    validator = RequestValidator(config.twilio_credentials[1])
    services = InboundServices(
        settings,
        ReplyRenderer(
            runtime.renderer, Agency.from_settings(config.file.agency), settings.message_frequency
        ),
        runtime.links,
    )
    router = APIRouter(prefix="/webhooks/twilio", tags=["webhooks"])

    async def signed_form(request: Request) -> dict[str, str]:
        """The form's fields, once the signature over them has been checked."""
        where = f"{request.url.path} from {request.client.host if request.client else '?'}"
        signature = request.headers.get("x-twilio-signature")
        if not signature:
            log.warning("twilio webhook %s: no X-Twilio-Signature: refused", where)
            raise HTTPException(403, "missing X-Twilio-Signature")
        if int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES:
            raise HTTPException(413, f"request body over {MAX_BODY_BYTES} bytes")
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM_TYPE:
            raise HTTPException(400, f"the body must be {FORM_TYPE}")
        try:
            form = await request.form()
        except Exception as exc:  # python-multipart raises several types for bad input
            raise HTTPException(400, f"unreadable form: {exc}") from exc
        params = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        url = signed_url(request, config.public_url, trust_proxy=settings.trust_proxy)
        if not validator.validate(url, params, signature):
            log.warning("twilio webhook %s: bad signature for %s: refused", where, url)
            raise HTTPException(403, "invalid X-Twilio-Signature")
        return params

    # Annotated aliases defined here would not resolve (postponed annotations), so the
    # dependency is given as a default.
    signed = Depends(signed_form)

    def required(form: dict[str, str], *names: str) -> list[str]:
        missing = [n for n in names if not form.get(n, "").strip()]
        if missing:
            raise HTTPException(400, f"missing form field(s): {', '.join(missing)}")
        return [form[n].strip() for n in names]

    @router.post("/sms")
    def inbound_sms(form: dict[str, str] = signed) -> Response:
        sid, sender = required(form, "MessageSid", "From")
        if "Body" not in form:
            raise HTTPException(400, "missing form field(s): Body")
        sms = InboundSms(
            sid=sid,
            from_=sender,
            to=form.get("To"),
            body=form["Body"],
            opt_out_type=form.get("OptOutType") or None,
            form=form,
        )
        now = runtime.clock.now()
        outcome: SmsOutcome | None
        try:
            with runtime.factory.begin() as session:
                outcome = handle_sms(session, now, sms, services)
        except IntegrityError:
            # The same MessageSid committed by a concurrent retry: answer as it did.
            with runtime.factory() as session:
                outcome = replay(session, sid)
            if outcome is None:
                raise
        if outcome.replayed:
            log.info("inbound sms %s from %s: replay, nothing changed", sid, mask(sender))
        return twiml(outcome.replies)

    @router.post("/status")
    def status_callback(form: dict[str, str] = signed) -> Response:
        status = form.get("MessageStatus") or form.get("SmsStatus") or ""
        (sid,) = required(form, "MessageSid")
        if not status:
            raise HTTPException(400, "missing form field(s): MessageStatus")
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
