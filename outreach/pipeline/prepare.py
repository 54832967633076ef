"""Check and render: what becomes of one claimed message before any channel is called.

Per message, in order: the campaign step still exists and the enrollment and account are
live; the step's conditions (skip_if, only_if) hold; a contact point is on file; the
compliance engine allows the attempt now; the rendered message passes the content checks.
The outcome is either a `Send` (plain values the send and record stages use, no rows) or the
Transition that ends the message here (cancelled, skipped, blocked, deferred, failed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from outreach.channels.base import OutboundMessage
from outreach.compliance import evaluate
from outreach.compliance.content import check_content, is_first_communication
from outreach.compliance.engine import contacted_phone
from outreach.compliance.places import places
from outreach.compliance.policy import Policy
from outreach.compliance.types import Attempt, Contact, Decision, Verdict
from outreach.config.campaigns import Campaign, Step
from outreach.db import outbox
from outreach.db.models import Enrollment, Message
from outreach.db.outbox import Changes, Transition
from outreach.db.rows import MessageRow
from outreach.pipeline.compose import Composer
from outreach.pipeline.contacts import CONTACT_KIND, choose_contact
from outreach.pipeline.snapshot import BatchContext
from outreach.render.environment import TemplateError
from outreach.vocabulary import DUE_STATES, MessageState

ONLY_IF_KIND = {"phone_on_file": "phone", "email_on_file": "email", "address_on_file": "address"}


@dataclass(frozen=True, slots=True)
class Send:
    """A checked, rendered message on its way to a channel: ids and plain values only, so it
    may cross from the check stage's thread to the send and the record stages."""

    message_id: int
    debtor_id: int
    campaign: str | None
    step_id: str | None
    contact_point_id: int
    attempts: int  # sends tried before this one
    outbound: OutboundMessage
    decision: Mapping[str, Any]

    @property
    def channel(self) -> str:
        return self.outbound.channel

    def ready(self, cause: str, now: datetime) -> Transition:
        """claimed -> ready: checked and rendered, committed with the decision and content.
        A ready message counts against caps (sent_at is when it is expected to go), so a
        second worker checking the same debtor sees it."""
        return Transition(
            self.message_id,
            MessageState.CLAIMED,
            MessageState.READY,
            cause,
            None,
            {
                "subject": self.outbound.subject,
                "body": self.outbound.text,
                "html": self.outbound.html,
                "to_address": self.outbound.to,
                "contact_point_id": self.contact_point_id,
                "decision": dict(self.decision),
                "sent_at": now,
            },
        )

    def sending(self, cause: str, now: datetime) -> Transition:
        """ready -> sending, committed just before the channel is called (at most once)."""
        return Transition(
            self.message_id,
            MessageState.READY,
            MessageState.SENDING,
            cause,
            None,
            {"sent_at": now, "attempts": self.attempts + 1},
        )

    def release(self, cause: str, reason: str) -> Transition:
        """ready -> planned: never handed to its channel; it is checked again when claimed."""
        return Transition(
            self.message_id,
            MessageState.READY,
            MessageState.PLANNED,
            cause,
            {"reason": reason},
            {"lease_owner": None, "lease_expires_at": None, "sent_at": None},
        )


# A message's outcome and the enrollments it stops (enrollment id -> reason).
Outcome = tuple["Send | Transition", dict[int, str]]


@dataclass(frozen=True)
class Preparer:
    campaigns: Mapping[str, Campaign]
    policy: Policy
    composer: Composer
    cause: str

    def prepare_all(
        self, batch: BatchContext, now: datetime, debtors: set[int] | None = None
    ) -> dict[int, Outcome]:
        """Each message's outcome and the enrollments it stops, in id order (a send joins its
        debtor's history, so later messages of the batch count it); only `debtors`' when
        given."""
        out: dict[int, Outcome] = {}
        for message in batch.messages:
            if debtors is None or message.debtor_id in debtors:
                stopped: dict[int, str] = {}
                out[message.id] = (self.prepare(batch, message, now, stopped), stopped)
        return out

    def prepare(
        self, batch: BatchContext, message: MessageRow, now: datetime, stopped: dict[int, str]
    ) -> Send | Transition:
        """Check and render `message`. A stop condition met adds its enrollment to `stopped`
        (enrollment id -> reason); an allowed send joins the debtor's history in `batch`, so
        later messages of the batch count it against caps."""

        def finish(
            state: str, reason: str, rules: tuple[str, ...] = (), changes: Changes | None = None
        ) -> Transition:
            detail: dict[str, Any] = {"reason": reason}
            if rules:
                detail["rules"] = list(rules)
            values = Changes(lease_owner=None, lease_expires_at=None)
            values.update(changes or {})
            return Transition(message.id, MessageState.CLAIMED, state, self.cause, detail, values)

        def template_failed(exc: TemplateError, changes: Changes | None = None) -> Transition:
            error = Changes(error_code="template", error_message=str(exc))
            error.update(changes or {})
            return finish(MessageState.FAILED, f"template error: {exc}", changes=error)

        campaign = self.campaigns.get(message.campaign or "")
        if message.campaign is None:
            step = _adhoc_step(message)
            stop_when: frozenset[str] = frozenset()
        else:
            found = _find_step(campaign, message.step_id)
            if campaign is None or found is None:
                return finish(MessageState.CANCELLED, "the step is no longer in the campaign file")
            step, stop_when = found, frozenset(campaign.stop_when)
        account = batch.accounts.get(message.account_id) if message.account_id else None
        enrollment = batch.enrollments.get(message.enrollment_id or 0)
        if enrollment is not None and enrollment.status == "stopped":
            return finish(MessageState.CANCELLED, f"enrollment stopped: {enrollment.stop_reason}")
        if account is not None and account.status == "paid":
            if "paid" in stop_when and message.enrollment_id:
                stopped[message.enrollment_id] = "account paid"
            return finish(MessageState.CANCELLED, "the account is paid")

        debtor_snap = batch.debtor_snapshot(message.debtor_id)
        account_snap = batch.account_snapshot(message.account_id, message.debtor_id)
        if "disputed" in step.skip_if and "dispute" in account_snap.holds:
            return finish(MessageState.SKIPPED, "skip_if disputed: the account is disputed")

        points = batch.contact_points.get(message.debtor_id, [])
        for condition in step.only_if:
            if not any(p.kind == ONLY_IF_KIND[condition] for p in points):
                return finish(MessageState.SKIPPED, f"only_if {condition}: none on file")
        point = choose_contact(points, step.channel, debtor_snap.opted_out)
        if point is None:
            return finish(MessageState.SKIPPED, f"no {CONTACT_KIND[step.channel]} on file")

        history = batch.history.setdefault(message.debtor_id, [])
        to = point.value if point.kind != "address" else None
        try:
            threatens_suit = self.composer.renderer.meta(step.template).threatens_suit
        except TemplateError as exc:
            return template_failed(exc)
        attempt = Attempt(
            channel=step.channel, to=to, kind=step.kind, threatens_suit=threatens_suit
        )
        zones = batch.zones(message.debtor_id, contacted_phone(attempt))
        decision = evaluate(
            attempt,
            debtor_snap,
            account_snap,
            history,
            self.policy,
            now,
            zones=zones,
        )
        stored = decision.to_dict()
        if decision.verdict is Verdict.BLOCK:
            holds = set(debtor_snap.holds) | set(account_snap.holds)
            stop = sorted(holds & stop_when)
            if stop and message.enrollment_id:
                stopped[message.enrollment_id] = f"hold: {', '.join(stop)}"
            return finish(
                MessageState.BLOCKED,
                "; ".join(decision.reasons),
                decision.rules,
                Changes(decision=stored),
            )
        if decision.verdict is Verdict.DEFER:
            assert decision.not_before is not None
            return finish(
                MessageState.DEFERRED,
                "; ".join(decision.reasons),
                decision.rules,
                Changes(decision=stored, due_at=decision.not_before),
            )
        first_contact = is_first_communication(history)
        try:
            outbound = self.composer.compose(batch, message, step, point, now, zones, first_contact)
        except TemplateError as exc:
            return template_failed(exc, Changes(decision=stored))
        # The rendered message itself: disclosures, suit wording, SMS size. A finding blocks;
        # for SMS the checked text (typographic punctuation normalized) is what gets sent.
        content = check_content(
            step.channel,
            outbound.text,
            policy=self.policy,
            places=places(debtor_snap.state, debtor_snap.zip, account_snap.state),
            time_barred=account_snap.time_barred,
            first_contact=first_contact,
            html=outbound.html,
            unsubscribe_url=outbound.unsubscribe_url,
        )
        if not content.ok:
            blocked = Decision(
                Verdict.BLOCK,
                rules=tuple(dict.fromkeys(rule for rule, _ in content.findings)),
                reasons=tuple(reason for _, reason in content.findings),
                zones=decision.zones,
                segments=content.segments,
                encoding=content.encoding,
            )
            return finish(
                MessageState.BLOCKED,
                "; ".join(blocked.reasons),
                blocked.rules,
                Changes(decision=blocked.to_dict()),
            )
        if content.text != outbound.text:
            outbound = replace(outbound, text=content.text)
        if content.segments is not None:
            stored = {**stored, "segments": content.segments, "encoding": content.encoding}
        # Later messages in this batch must see this one in the debtor's history (caps).
        if step.kind not in self.policy.responses:
            history.append(Contact(at=now, channel=step.channel, account_id=message.account_id))
        return Send(
            message_id=message.id,
            debtor_id=message.debtor_id,
            campaign=message.campaign,
            step_id=message.step_id,
            contact_point_id=point.id,
            attempts=message.attempts,
            outbound=outbound,
            decision=stored,
        )


def _adhoc_step(message: MessageRow) -> Step:
    """A message planned outside any campaign (a promise follow-up, an agent's message) is
    its own one-step plan: channel, template and kind come from the row."""
    return Step.model_construct(
        id=message.step_id or f"message-{message.id}",
        day=0,
        channel=message.channel,
        template=message.template,
        kind=message.kind,
        only_if=[],
        skip_if=[],
    )


def _find_step(campaign: Campaign | None, step_id: str | None) -> Step | None:
    if campaign is None or step_id is None:
        return None
    return next((s for s in campaign.steps if s.id == step_id), None)


def stop_enrollments(session: Session, stopped: dict[int, str], now: datetime, cause: str) -> None:
    """A stop condition ends the enrollment; its remaining planned messages are cancelled."""
    for enrollment_id, reason in stopped.items():
        session.execute(
            update(Enrollment)
            .where(Enrollment.id == enrollment_id, Enrollment.status == "active")
            .values(status="stopped", stop_reason=reason, next_due_at=None)
        )
        pending = session.scalars(
            Message.__table__.select()
            .with_only_columns(Message.id)
            .where(
                Message.enrollment_id == enrollment_id,
                Message.state.in_(DUE_STATES),
            )
        ).all()
        outbox.apply(
            session,
            [
                Transition(
                    i,
                    None,
                    MessageState.CANCELLED,
                    cause,
                    {"reason": f"enrollment stopped: {reason}"},
                )
                for i in pending
            ],
            now,
            only_from=DUE_STATES,
        )
