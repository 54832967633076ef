"""Pages a debtor reaches from a link in a message: unsubscribe, pay, dispute.

Unsubscribe (RFC 8058): mail providers POST `List-Unsubscribe=One-Click` to the signed URL
in the List-Unsubscribe header; that POST opts the address out and answers 200. A GET is
what a person (or a link scanner, or a mail filter prefetching links) does, so it only shows
a page with a button; the button POSTs. Unsubscribe links never expire; payment links do
(inbound.pay_link_days). A bad or expired token gets a 400 / 410 page and a log line.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from itsdangerous import BadSignature, SignatureExpired
from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.actions.casework import create_task
from outreach.actions.contacts import set_opt_out
from outreach.actions.holds import set_hold
from outreach.db.models import Account, ContactPoint, InboundMessage
from outreach.masking import mask
from outreach.render.context import Agency
from outreach.runtime import Runtime
from outreach.services.fields import Text

log = logging.getLogger(__name__)

ONE_CLICK = "One-Click"
REASON_MAX = 2_000  # the dispute form's textarea (maxlength) and what is kept of it
TOKEN_MAX = 1_000  # characters of a link's token: several times any this server signs

Token = Annotated[Text, Path(max_length=TOKEN_MAX)]

_HTML: dict[str, Any] = {"content": {"text/html": {}}}
_PAGE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "A link that is not valid", **_HTML},
    404: {"description": "A link to something that is gone", **_HTML},
    410: {"description": "A payment link that has expired", **_HTML},
}


def opt_out_email(
    session: Session, now: datetime, point: ContactPoint, *, how: str, message_id: int | None
) -> bool:
    """Opt the address out for every debtor who has it; record the request as inbound.
    Returns False when it was already opted out everywhere."""
    points = session.scalars(
        select(ContactPoint).where(ContactPoint.kind == "email", ContactPoint.value == point.value)
    ).all()
    reason = f"{how} (message {message_id})" if message_id else how
    changed = [
        p
        for p in points
        if set_opt_out(session, now, "debtor:email", p, opted_out=True, reason=reason)
    ]
    session.add(
        InboundMessage(
            channel="email",
            from_address=point.value,
            body=how,
            debtor_id=point.debtor_id,
            intent="opt_out",
            action=f"email opted out for {len(changed)} debtor(s)" if changed else "already out",
            received_at=now,
            raw={"message_id": message_id},
        )
    )
    return bool(changed)


def _storable(value: object) -> str:
    """A debtor's dispute is recorded whatever they typed: no NUL (PostgreSQL refuses it), at
    most REASON_MAX characters; a file where text belongs is no reason."""
    text = value if isinstance(value, str) else ""
    return text.replace("\x00", "").strip()[:REASON_MAX]


def public_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(tags=["public"], responses=_PAGE_ERRORS)
    env = runtime.renderer.env
    agency = Agency.from_settings(runtime.config.file.agency)
    max_age = runtime.config.file.inbound.pay_link_days * 86400

    def page(name: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = env.get_template(f"web/public/{name}.html").render(agency=agency, **values)
        return HTMLResponse(html, status_code=status)

    def link_error(request: Request, exc: Exception) -> HTMLResponse:
        expired = isinstance(exc, SignatureExpired)
        log.warning(
            "%s %s: %s link", request.method, request.url.path[:24], "expired" if expired else "bad"
        )
        if expired:
            return page(
                "link_error",
                410,
                heading="This link has expired",
                message="For your security, payment links work for a few days only.",
            )
        return page(
            "link_error", 400, heading="This link is not valid", message="We cannot read it."
        )

    def not_found() -> HTMLResponse:
        return page("link_error", 404, heading="Not found", message="We have no record for it.")

    # --- unsubscribe ----------------------------------------------------------------------

    @router.get("/u/{token}", response_class=HTMLResponse)
    def unsubscribe_page(token: Token, request: Request) -> Response:
        try:
            data = runtime.links.read("unsubscribe", token)
        except BadSignature as exc:
            return link_error(request, exc)
        with runtime.factory() as session:
            point = session.get(ContactPoint, data.get("cp"))
            if point is None or point.kind != "email":
                return not_found()
            return page("unsubscribe", address=mask(point.value), done=False)

    @router.post(
        "/u/{token}",
        response_class=HTMLResponse,
        responses={200: {"content": {"text/plain": {}}, "description": "Unsubscribed"}},
    )
    async def unsubscribe(token: Token, request: Request) -> Response:
        try:
            data = runtime.links.read("unsubscribe", token)
        except BadSignature as exc:
            return link_error(request, exc)
        form = await request.form()
        one_click = form.get("List-Unsubscribe") == ONE_CLICK
        with runtime.factory.begin() as session:
            point = session.get(ContactPoint, data.get("cp"))
            if point is None or point.kind != "email":
                return not_found()
            changed = opt_out_email(
                session,
                runtime.clock.now(),
                point,
                how="one-click unsubscribe (RFC 8058)" if one_click else "unsubscribe page",
                message_id=data.get("m"),
            )
            address = mask(point.value)
        log.info("unsubscribe %s: %s", address, "opted out" if changed else "already out")
        if one_click:
            return PlainTextResponse("unsubscribed\n")
        return page("unsubscribe", address=address, done=True, already=not changed)

    # --- pay and dispute ------------------------------------------------------------------

    def account_view(account: Account) -> dict[str, Any]:
        return {
            "creditor": account.creditor,
            "account_ref": mask(account.account_number),
            "balance": account.balance,
        }

    @router.get("/pay/{token}", response_class=HTMLResponse)
    def pay_page(token: Token, request: Request) -> Response:
        try:
            data = runtime.links.read("pay", token, max_age=max_age)
        except BadSignature as exc:
            return link_error(request, exc)
        with runtime.factory() as session:
            account = session.get(Account, data.get("a"))
            if account is None:
                return not_found()
            return page("pay", account=account_view(account))

    @router.get("/dispute/{token}", response_class=HTMLResponse)
    def dispute_page(token: Token, request: Request) -> Response:
        try:
            data = runtime.links.read("dispute", token)
        except BadSignature as exc:
            return link_error(request, exc)
        with runtime.factory() as session:
            account = session.get(Account, data.get("a"))
            if account is None:
                return not_found()
            return page("dispute", account=account_view(account), done=False)

    @router.post("/dispute/{token}", response_class=HTMLResponse)
    async def dispute(token: Token, request: Request) -> Response:
        try:
            data = runtime.links.read("dispute", token)
        except BadSignature as exc:
            return link_error(request, exc)
        reason = _storable((await request.form()).get("reason"))
        now = runtime.clock.now()
        with runtime.factory.begin() as session:
            account = session.get(Account, data.get("a"))
            if account is None:
                return not_found()
            hold = set_hold(
                session,
                now,
                "debtor:web",
                debtor_id=account.debtor_id,
                kind="dispute",
                account_id=account.id,
                reason=f"dispute page: {reason}" if reason else "dispute page",
            )
            inbound = InboundMessage(
                channel="web",
                from_address="dispute page",
                body=reason,
                debtor_id=account.debtor_id,
                account_id=account.id,
                intent="dispute",
                action=f"dispute hold {hold.id}",
                needs_agent=True,
                received_at=now,
            )
            session.add(inbound)
            session.flush()
            create_task(
                session,
                now,
                "debtor:web",
                kind="review",
                summary="Dispute from the web page: send verification before collecting (F17)",
                debtor_id=account.debtor_id,
                account_id=account.id,
                inbound_id=inbound.id,
            )
            view = account_view(account)
        return page("dispute", account=view, done=True)

    return router
