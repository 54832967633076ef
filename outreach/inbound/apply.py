"""Apply an inbound SMS: store it and act on it, then answer it, in that order.

No reply can lose a debtor's message, so the work is cut in two transactions:
1. `record_sms`: the inbound row (with its signature), the intent, every state change and its
   audit events (opt-out, hold, promise, tasks through outreach.actions) and the replies it
   calls for, as plans (template name, language, values), commit together;
2. the replies are rendered outside any transaction; one whose template fails becomes the
   built-in text (ReplyRenderer.fallback), the failure logged and an agent task created;
3. `finish`: the rendered replies are logged as outbound messages linked to the inbound one,
   and their texts kept on it (raw["replies"]).

A retried MessageSid finds its row and is never applied again: it gets the replies kept for
it, or, when the process stopped between 1 and 3 or step 3 failed (the request got a 500:
nothing was logged, so nothing was answered either), the planned replies rendered and logged
then. The debtor's message and its hold or opt-out are never lost, and its replies are
answered once. A MessageSid never seen whose signature was seen is a re-cut replay of a
captured request (inbound.twilio_form says how) and is refused: a START that was received,
or one re-cut from it, never undoes a later STOP.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from outreach.actions.casework import create_task
from outreach.compliance.local_dates import local_today
from outreach.db.models import InboundMessage
from outreach.inbound.handler import ACTOR, Handler, InboundServices, InboundSms, PlannedReply
from outreach.inbound.intents import parse as parse_intent
from outreach.inbound.replies import ReplyRenderer
from outreach.inbound.reply_log import Reply, ReplyTarget, log_replies, reply_target
from outreach.inbound.sender import identify_sender, sender_zones
from outreach.masking import mask
from outreach.render.environment import TemplateError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SmsOutcome:
    inbound_id: int
    intent: str
    action: str
    replies: tuple[str, ...]
    replayed: bool = False


class SignatureReused(ValueError):
    """A new MessageSid under a signature already seen: not a request Twilio made."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """What the first transaction committed: the action, and the replies it calls for."""

    inbound_id: int
    intent: str
    action: str
    planned: tuple[PlannedReply, ...]
    replies: tuple[str, ...] | None  # None: planned, not yet rendered and logged
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class RenderedReply:
    reply: Reply
    language: str
    error: str | None = None  # the template failed: reply.text is the built-in one


def handle_sms(
    factory: sessionmaker[Session], now: datetime, sms: InboundSms, services: InboundServices
) -> SmsOutcome:
    """Store and apply the message (committed), then render and log its replies."""
    try:
        with factory.begin() as session:
            recorded = record_sms(session, now, sms, services)
    except IntegrityError:
        # The same MessageSid (a retry) or signature committed by a concurrent request.
        with factory() as session:
            again = replay(session, sms.sid)
            if again is None and sms.signature and _signed_before(session, sms.signature):
                raise SignatureReused("this signature came with another MessageSid") from None
        if again is None:
            raise
        recorded = again
    replies = recorded.replies
    if replies is None:
        rendered = render_replies(recorded.planned, services.replies, recorded.inbound_id)
        with factory.begin() as session:
            replies = finish(session, now, recorded.inbound_id, rendered)
    return SmsOutcome(
        recorded.inbound_id, recorded.intent, recorded.action, replies, recorded.replayed
    )


def replay(session: Session, sid: str) -> Recorded | None:
    """The outcome already recorded for this MessageSid, if any (Twilio retries)."""
    row = session.scalars(select(InboundMessage).where(InboundMessage.provider_id == sid)).first()
    if row is None:
        return None
    raw = row.raw or {}
    planned = tuple(PlannedReply.from_json(p) for p in raw.get("planned", []))
    replies: tuple[str, ...] | None = tuple(raw.get("replies", ()))
    if "replies" not in raw and planned:
        replies = None  # stopped before its replies were logged: `finish` them now
    return Recorded(row.id, row.intent or "", row.action or "", planned, replies, replayed=True)


def _signed_before(session: Session, signature: str) -> bool:
    found = session.scalar(
        select(InboundMessage.id).where(InboundMessage.signature == signature).limit(1)
    )
    return found is not None


def record_sms(
    session: Session, now: datetime, sms: InboundSms, services: InboundServices
) -> Recorded:
    """Transaction 1: the message, who sent it, what it asks and what was done about it."""
    if (done := replay(session, sms.sid)) is not None:
        return done
    if sms.signature and _signed_before(session, sms.signature):
        raise SignatureReused("this signature came with another MessageSid")
    inbound = InboundMessage(
        channel="sms",
        provider_id=sms.sid,
        signature=sms.signature,
        from_address=sms.from_,
        to_address=sms.to,
        body=sms.body,
        received_at=now,
        raw={"form": sms.form},
    )
    session.add(inbound)
    session.flush()  # the unique MessageSid and signature: a concurrent duplicate fails here

    sender = identify_sender(session, sms.from_)
    zones = sender_zones(session, sender, sms.from_)
    intent = parse_intent(
        sms.body,
        today=local_today(now, zones),
        opt_out_type=sms.opt_out_type,
        max_days=services.settings.promise_max_days,
    )
    language = intent.language or (sender.debtor.language if sender.debtor else "en")
    handler = Handler(session, now, sms, services, sender, inbound, intent, language, zones)
    action, planned = handler.run()

    target = reply_target(sender)
    inbound.debtor_id = sender.debtor.id if sender.debtor else None
    inbound.account_id = sender.account.id if sender.account else None
    inbound.intent = intent.kind.value
    inbound.action = action
    raw: dict[str, Any] = {
        "form": sms.form,
        "planned": [p.as_json() for p in planned],
        "target": target.as_json() if target else None,
    }
    if not planned:
        raw["replies"] = []
    inbound.raw = raw
    log.info("inbound sms %s from %s: %s -> %s", inbound.id, mask(sms.from_), intent.kind, action)
    replies = None if planned else ()
    return Recorded(inbound.id, intent.kind.value, action, tuple(planned), replies)


def render_replies(
    planned: Sequence[PlannedReply], renderer: ReplyRenderer, inbound_id: int
) -> list[RenderedReply]:
    """Step 2, outside any transaction: each reply, or its built-in text if it fails."""
    rendered = []
    for p in planned:
        try:
            text, error = renderer.render(p.name, p.language, **p.values), None
        except TemplateError as exc:
            log.error(
                "reply %r (%s) to inbound sms %s failed to render, sent the built-in text: %s",
                p.name,
                p.language,
                inbound_id,
                exc,
            )
            text, error = renderer.fallback(p.name, p.language), str(exc)
        rendered.append(RenderedReply(Reply(p.name, text, p.kind), p.language, error))
    return rendered


def finish(
    session: Session, now: datetime, inbound_id: int, rendered: Sequence[RenderedReply]
) -> tuple[str, ...]:
    """Transaction 2: log the replies once (a concurrent retry may have logged them first:
    then its texts are the answer) and give each failed template to an agent."""
    inbound = session.scalars(
        select(InboundMessage).where(InboundMessage.id == inbound_id).with_for_update()
    ).one()
    raw = dict(inbound.raw or {})
    if "replies" in raw:
        return tuple(raw["replies"])
    target = ReplyTarget.from_json(raw.get("target"))
    log_replies(session, now, target, inbound, [r.reply for r in rendered])
    for r in rendered:
        if r.error is None:
            continue
        create_task(
            session,
            now,
            ACTOR,
            kind="review",
            summary=(
                f"The {r.reply.name!r} reply ({r.language}) failed to render, so the built-in"
                f" text was sent: fix the template. {r.error}"
            )[:500],
            debtor_id=target.debtor_id if target else None,
            account_id=target.account_id if target else None,
            inbound_id=inbound.id,
        )
    texts = tuple(r.reply.text for r in rendered)
    inbound.raw = {**raw, "replies": list(texts)}
    return texts


__all__ = [
    "Recorded",
    "SignatureReused",
    "SmsOutcome",
    "finish",
    "handle_sms",
    "record_sms",
    "render_replies",
    "replay",
]
