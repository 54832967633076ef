"""One inbound SMS's decision: who wrote, what it asks (inbound.intents), the action taken
through outreach.actions, and the replies it calls for, planned (template name, language,
values) and rendered only once the action has committed (inbound.apply).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.actions.audit import ActionError
from outreach.actions.casework import create_task
from outreach.actions.contacts import set_opt_out
from outreach.actions.holds import set_hold
from outreach.actions.money import FollowUp, record_promise
from outreach.config.settings import InboundSettings
from outreach.db.models import Account, InboundMessage
from outreach.inbound.intents import CARRIER_HELP, CARRIER_START, CARRIER_STOP, Intent, IntentKind
from outreach.inbound.replies import ReplyRenderer, date_text
from outreach.inbound.sender import Sender
from outreach.links import LinkBuilder
from outreach.masking import mask
from outreach.vocabulary import MessageKind

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


@dataclass(frozen=True)
class InboundServices:
    settings: InboundSettings
    replies: ReplyRenderer
    links: LinkBuilder


@dataclass(frozen=True, slots=True)
class PlannedReply:
    """A reply decided with the action, rendered once the action has committed. Kept on the
    inbound row (JSON) until then, a Decimal as {"decimal": "50.00"}."""

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


class Handler:
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


__all__ = ["ACTOR", "Handler", "InboundServices", "InboundSms", "PlannedReply"]
