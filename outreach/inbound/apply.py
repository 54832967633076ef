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
it, or, when the process stopped between 1 and 3 (nothing was logged, so nothing was
answered either), the planned replies rendered and logged then: the debtor's message and
its hold or opt-out are never lost, and its replies are answered once. A MessageSid never
seen whose signature was seen is a re-cut replay of a captured request (inbound.twilio_form
says how) and is refused, so only a request Twilio signed can act: a replayed START can
never undo a later STOP.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from outreach.actions.audit import ActionError
from outreach.actions.casework import create_task
from outreach.actions.contacts import set_opt_out
from outreach.actions.holds import set_hold
from outreach.actions.money import FollowUp, record_promise
from outreach.compliance.local_dates import local_today
from outreach.config.settings import InboundSettings
from outreach.db.models import Account, InboundMessage
from outreach.inbound.intents import CARRIER_HELP, CARRIER_START, CARRIER_STOP, Intent, IntentKind
from outreach.inbound.intents import parse as parse_intent
from outreach.inbound.replies import ReplyRenderer, date_text
from outreach.inbound.reply_log import Reply, ReplyTarget, log_replies, reply_target
from outreach.inbound.sender import Sender, identify_sender, sender_zones
from outreach.links import LinkBuilder
from outreach.masking import mask
from outreach.render.environment import TemplateError
from outreach.vocabulary import MessageKind

log = logging.getLogger(__name__)


ACTOR = "debtor:sms"


@dataclass(frozen=True, slots=True)
class InboundSms:
    """The webhook's fields that matter, plus the whole form for the record."""

    sid: str
    from_: str
    to: str | None
    body: str
    opt_out_type: str | None = None
    form: dict[str, str] = field(default_factory=dict)
    signature: str | None = None  # X-Twilio-Signature: one message per signature


@dataclass(frozen=True, slots=True)
class SmsOutcome:
    inbound_id: int
    intent: str
    action: str
    replies: tuple[str, ...]
    replayed: bool = False


@dataclass(frozen=True)
class InboundServices:
    settings: InboundSettings
    replies: ReplyRenderer
    links: LinkBuilder


class SignatureReused(ValueError):
    """A new MessageSid under a signature already seen: not a request Twilio made."""


@dataclass(frozen=True, slots=True)
class PlannedReply:
    """A reply decided with the action, rendered once the action has committed."""

    name: str
    language: str
    kind: MessageKind
    values: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        values = {
            k: {"decimal": str(v)} if isinstance(v, Decimal) else v for k, v in self.values.items()
        }
        return {"name": self.name, "language": self.language, "kind": self.kind, "values": values}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlannedReply:
        values = {
            k: Decimal(v["decimal"]) if isinstance(v, dict) and set(v) == {"decimal"} else v
            for k, v in data["values"].items()
        }
        return cls(data["name"], data["language"], MessageKind(data["kind"]), values)


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
    handler = _Handler(session, now, sms, services, sender, inbound, intent, language, zones)
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


class _Handler:
    """One inbound message's decision: each intent's method returns (action, replies)."""

    def __init__(
        self,
        session: Session,
        now: datetime,
        sms: InboundSms,
        services: InboundServices,
        sender: Sender,
        inbound: InboundMessage,
        intent: Intent,
        language: str,
        zones: tuple[str, ...],
    ) -> None:
        self.session = session
        self.zones = zones  # the sender's candidate zones: the calendar of their dates
        self.now = now
        self.sms = sms
        self.settings = services.settings
        self.links = services.links
        self.sender = sender
        self.inbound = inbound
        self.intent = intent
        self.language = language

    def reply(
        self, name: str, kind: MessageKind = MessageKind.REPLY, **values: Any
    ) -> PlannedReply:
        return PlannedReply(name, self.language, kind, values)

    def run(self) -> tuple[str, list[PlannedReply]]:
        kind = self.intent.kind
        if kind is IntentKind.OPT_OUT:
            return self.opt_out()
        if kind is IntentKind.OPT_IN:
            return self.opt_in()
        if kind is IntentKind.HELP:
            if self._provider_answers(CARRIER_HELP):
                return "help (answered by the provider)", []
            return "sent help", [self.reply("help" if self.sender.known else "help_generic")]
        if not self.sender.known:
            self._to_inbox("unknown number")
            name = "acknowledgement" if self.sender.shared else "unknown"
            why = "number shared by several debtors" if self.sender.shared else "unknown number"
            return f"to inbox ({why}); generic reply", [self.reply(name)]
        if kind is IntentKind.DISPUTE:
            return self.dispute()
        if kind is IntentKind.PAY:
            return self.pay()
        if kind is IntentKind.PROMISE:
            return self.promise()
        if kind is IntentKind.CALLBACK:
            return self.callback()
        self._to_inbox("reply")
        if self.settings.neutral_acknowledgement:
            return "to inbox; acknowledged", [self.reply("acknowledgement")]
        return "to inbox", []

    # --- keywords ---------------------------------------------------------------------------

    def _provider_answers(self, keywords: frozenset[str]) -> bool:
        """Twilio answered this one itself: an Advanced Opt-Out keyword, or (on long codes)
        an exact carrier keyword. Then a reply of ours would be the second one."""
        if self.sms.opt_out_type:
            return True
        exact = self.sms.body.strip().strip(".!").casefold()
        return self.settings.provider_handles_keywords and exact in keywords

    def opt_out(self) -> tuple[str, list[PlannedReply]]:
        reason = f"SMS reply ({self.intent.matched})"
        changed = [
            p
            for p in self.sender.points
            if set_opt_out(self.session, self.now, ACTOR, p, opted_out=True, reason=reason)
        ]
        action = (
            f"opted out {mask(self.sms.from_)} for {len(changed)} debtor(s)"
            if changed
            else "already opted out"
        )
        first_time = bool(changed) or (not self.sender.points and not self._opted_out_before())
        if not first_time:
            return action, []
        if not self.settings.send_opt_out_confirmation:
            return action + "; confirmation off", []
        if self._provider_answers(CARRIER_STOP):
            return action + "; the provider confirmed", []
        return action + "; confirmed", [self.reply("opt_out", MessageKind.OPT_OUT_CONFIRMATION)]

    def _opted_out_before(self) -> bool:
        """An unknown number that already said stop (and not start since) gets no second
        confirmation either."""
        last = self.session.scalars(
            select(InboundMessage.intent)
            .where(
                InboundMessage.from_address == self.sms.from_,
                InboundMessage.intent.in_((IntentKind.OPT_OUT, IntentKind.OPT_IN)),
                InboundMessage.id != self.inbound.id,
            )
            .order_by(InboundMessage.id.desc())
            .limit(1)
        ).first()
        return last == IntentKind.OPT_OUT

    def opt_in(self) -> tuple[str, list[PlannedReply]]:
        changed = [
            p
            for p in self.sender.points
            if set_opt_out(
                self.session, self.now, ACTOR, p, opted_out=False, reason="SMS reply (opt-in)"
            )
        ]
        if not changed:
            return "opt-in: nothing was opted out", []
        action = f"opted {mask(self.sms.from_)} back in for {len(changed)} debtor(s)"
        if self._provider_answers(CARRIER_START):
            return action + "; the provider confirmed", []
        return action, [self.reply("opt_in")]

    # --- debtor requests --------------------------------------------------------------------

    def dispute(self) -> tuple[str, list[PlannedReply]]:
        debtor = self.sender.debtor
        assert debtor is not None
        accounts = self.sender.open_accounts
        reason = f"SMS reply: {self.sms.body[:200]}"
        if len(accounts) > 1:
            reason += f" (all {len(accounts)} open accounts held)"
        scopes: list[int | None] = [a.id for a in accounts] or [None]
        for account_id in scopes:
            set_hold(
                self.session,
                self.now,
                ACTOR,
                debtor_id=debtor.id,
                kind="dispute",
                account_id=account_id,
                reason=reason,
            )
        create_task(
            self.session,
            self.now,
            ACTOR,
            kind="review",
            summary="Dispute by SMS: send verification before collecting (F17)",
            debtor_id=debtor.id,
            account_id=accounts[0].id if len(accounts) == 1 else None,
            inbound_id=self.inbound.id,
        )
        action = f"dispute hold on {len(accounts)} account(s)" if accounts else "dispute hold"
        return action, [self.reply("dispute", accounts=max(len(accounts), 1))]

    def pay(self) -> tuple[str, list[PlannedReply]]:
        account = self.sender.account
        if account is None:
            self._to_inbox("pay link: several accounts")
            return "to inbox (pay: which account?)", [self.reply("acknowledgement")]
        url = self.links.pay(account.id)
        action = f"sent pay link for account {mask(account.account_number)}"
        return action, [
            self.reply("pay", account=_view(account), pay_url=url, days=self.settings.pay_link_days)
        ]

    def promise(self) -> tuple[str, list[PlannedReply]]:
        account = self.sender.account
        intent = self.intent
        if account is None or not intent.complete_promise:
            why = "several accounts" if account is None else "amount or date unclear"
            self._to_inbox(f"promise: {why}")
            return f"to inbox (promise: {why}); asked for the format", [
                self.reply("promise_format")
            ]
        assert intent.amount is not None and intent.due_on is not None
        try:
            promise = record_promise(
                self.session,
                self.now,
                ACTOR,
                account=account,
                amount=intent.amount,
                due_on=intent.due_on,
                zones=self.zones,
                followup=FollowUp("sms", self.settings.promise_followup_template),
                inbound_id=self.inbound.id,
            )
        except ActionError as exc:
            self._to_inbox(f"promise refused: {exc}")
            return f"to inbox (promise refused: {exc})", [self.reply("promise_format")]
        action = f"promise {promise.id}: {intent.amount} by {intent.due_on.isoformat()}"
        return action, [
            self.reply(
                "promise",
                account=_view(account),
                amount=intent.amount,
                due_text=date_text(intent.due_on, self.language),
                pay_url=self.links.pay(account.id),
            )
        ]

    def callback(self) -> tuple[str, list[PlannedReply]]:
        debtor = self.sender.debtor
        assert debtor is not None
        task = create_task(
            self.session,
            self.now,
            ACTOR,
            kind="callback",
            summary=f"Call back {mask(self.sms.from_)}: {self.sms.body[:200]}",
            debtor_id=debtor.id,
            account_id=self.sender.account.id if self.sender.account else None,
            inbound_id=self.inbound.id,
        )
        return f"callback task {task.id}", [self.reply("callback")]

    def _to_inbox(self, why: str) -> None:
        self.inbound.needs_agent = True
        create_task(
            self.session,
            self.now,
            ACTOR,
            kind="reply",
            summary=f"SMS from {mask(self.sms.from_)} ({why}): {self.sms.body[:200]}",
            debtor_id=self.sender.debtor.id if self.sender.debtor else None,
            account_id=self.sender.account.id if self.sender.account else None,
            inbound_id=self.inbound.id,
        )


def _view(account: Account) -> dict[str, str]:
    """What a reply may say about an account: the creditor and the masked number."""
    return {"creditor": account.creditor, "account_ref": mask(account.account_number)}


__all__ = [
    "InboundServices",
    "InboundSms",
    "PlannedReply",
    "Recorded",
    "SignatureReused",
    "SmsOutcome",
    "finish",
    "handle_sms",
    "record_sms",
    "render_replies",
    "replay",
]
