"""The dispatcher: claim a batch of due messages, check, render, send, record.

Stages, each a method: claim (outbox), check (compliance over a snapshot loaded in a few
queries), render (Jinja2), send (channels, bounded concurrency per channel), record (bulk).
The at-most-once rule: a message is committed as `sending` before its channel is called;
a worker that dies after that leaves it to the reaper, which marks it `unknown`.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from outreach.channels.base import Channel, OutboundMessage, PostalAddress, SendResult, SendStatus
from outreach.clock import Clock
from outreach.compliance import candidate_zones, evaluate
from outreach.compliance.content import check_content, is_first_communication
from outreach.compliance.places import places
from outreach.compliance.policy import Policy
from outreach.compliance.types import Attempt, Contact, Decision, Verdict
from outreach.config.campaigns import Campaign, Step
from outreach.config.settings import AgencySettings
from outreach.db.models import ContactPoint, Enrollment, Message, MessageState
from outreach.links import LinkBuilder
from outreach.masking import mask
from outreach.pipeline import outbox
from outreach.pipeline.outbox import Transition
from outreach.pipeline.snapshot import BatchContext, load_batch
from outreach.render.context import Links
from outreach.render.environment import Renderer, TemplateError
from outreach.render.message_context import build_context, local_today

log = logging.getLogger(__name__)

CONTACT_KIND = {"sms": "phone", "email": "email", "letter": "address"}
ONLY_IF_KIND = {"phone_on_file": "phone", "email_on_file": "email", "address_on_file": "address"}


@dataclass
class DispatchReport:
    claimed: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    reaped_replanned: int = 0
    reaped_unknown: int = 0

    def __bool__(self) -> bool:
        return self.claimed > 0


@dataclass
class _Prepared:
    message: Message
    outbound: OutboundMessage
    contact_point_id: int | None
    decision: dict[str, Any]


@dataclass(frozen=True)
class DispatcherSettings:
    batch_size: int = 200
    lease: timedelta = timedelta(minutes=5)
    max_send_attempts: int = 5
    retry_base: timedelta = timedelta(minutes=1)
    retry_max: timedelta = timedelta(hours=1)
    concurrency: Mapping[str, int] = field(
        default_factory=lambda: {"sms": 8, "email": 8, "letter": 2}
    )


class Dispatcher:
    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        campaigns: Mapping[str, Campaign],
        policy: Policy,
        channels: Mapping[str, Channel],
        renderer: Renderer,
        links: LinkBuilder,
        agency: AgencySettings,
        clock: Clock,
        worker_id: str = "worker-1",
        settings: DispatcherSettings | None = None,
        status_callbacks: bool = True,
    ) -> None:
        self.factory = factory
        self.campaigns = campaigns
        self.policy = policy
        self.channels = channels
        self.renderer = renderer
        self.links = links
        self.agency = agency
        self.clock = clock
        self.worker_id = worker_id
        self.settings = settings or DispatcherSettings()
        self.status_callbacks = status_callbacks
        self._semaphores = {
            name: asyncio.Semaphore(self.settings.concurrency.get(name, 4)) for name in channels
        }

    @property
    def cause(self) -> str:
        return f"dispatcher:{self.worker_id}"

    async def tick(self) -> DispatchReport:
        """One batch. Returns what happened; an empty report when nothing was due."""
        report = DispatchReport()
        now = self.clock.now()
        report.reaped_replanned, report.reaped_unknown, ids = await asyncio.to_thread(
            self._reap_and_claim, now
        )
        report.claimed = len(ids)
        if not ids:
            return report
        prepared, decided = await asyncio.to_thread(self._check_and_render, ids, now)
        report.outcomes.update(t.to_state for t in decided)
        if prepared:
            results = await asyncio.gather(*(self._send(p) for p in prepared))
            recorded = await asyncio.to_thread(self._record, prepared, results)
            report.outcomes.update(t.to_state for t in recorded)
        return report

    async def run_until_idle(self, max_batches: int = 10_000) -> DispatchReport:
        """Dispatch batches until nothing is due at the clock's current time."""
        total = DispatchReport()
        for _ in range(max_batches):
            report = await self.tick()
            total.claimed += report.claimed
            total.outcomes.update(report.outcomes)
            total.reaped_replanned += report.reaped_replanned
            total.reaped_unknown += report.reaped_unknown
            if not report:
                break
        return total

    # --- claim -----------------------------------------------------------------------------

    def _reap_and_claim(self, now: datetime) -> tuple[int, int, list[int]]:
        with self.factory.begin() as session:
            replanned, unknown = outbox.reap_expired(session, now)
        with self.factory.begin() as session:
            ids = outbox.claim(
                session, self.worker_id, now, self.settings.batch_size, self.settings.lease
            )
        return replanned, unknown, ids

    # --- check and render -----------------------------------------------------------------

    def _check_and_render(
        self, ids: list[int], now: datetime
    ) -> tuple[list[_Prepared], list[Transition]]:
        with self.factory.begin() as session:
            _lock_debtors(session, ids)
            batch = load_batch(
                session,
                ids,
                now,
                self.policy.longest_cap_days,
                exclude_kinds=self.policy.responses,
            )
            prepared: list[_Prepared] = []
            decided: list[Transition] = []
            stopped: dict[int, str] = {}
            for message in batch.messages:
                outcome = self._check_one(batch, message, now, stopped)
                if isinstance(outcome, _Prepared):
                    prepared.append(outcome)
                else:
                    decided.append(outcome)
            sending = [
                Transition(
                    p.message.id,
                    MessageState.CLAIMED,
                    MessageState.SENDING,
                    self.cause,
                    None,
                    {
                        "subject": p.outbound.subject,
                        "body": p.outbound.text,
                        "html": p.outbound.html,
                        "to_address": p.outbound.to,
                        "contact_point_id": p.contact_point_id,
                        "decision": p.decision,
                        "sent_at": now,
                        "attempts": p.message.attempts + 1,
                    },
                )
                for p in prepared
            ]
            claimed = (MessageState.CLAIMED,)
            decided = outbox.apply(
                session, decided, now, only_from=claimed, lease_owner=self.worker_id
            )
            sent_ids = {
                t.message_id
                for t in outbox.apply(
                    session, sending, now, only_from=claimed, lease_owner=self.worker_id
                )
            }
            self._stop_enrollments(session, batch, stopped, now)
        return [p for p in prepared if p.message.id in sent_ids], decided

    def _check_one(
        self, batch: BatchContext, message: Message, now: datetime, stopped: dict[int, str]
    ) -> _Prepared | Transition:
        def finish(
            state: str, reason: str, rules: tuple[str, ...] = (), **values: Any
        ) -> Transition:
            detail: dict[str, Any] = {"reason": reason}
            if rules:
                detail["rules"] = list(rules)
            values.setdefault("lease_owner", None)
            values.setdefault("lease_expires_at", None)
            return Transition(message.id, MessageState.CLAIMED, state, self.cause, detail, values)

        def template_failed(exc: TemplateError, **values: Any) -> Transition:
            return finish(
                MessageState.FAILED,
                f"template error: {exc}",
                error_code="template",
                error_message=str(exc),
                **values,
            )

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
        point = _choose_contact(points, step.channel, debtor_snap.opted_out)
        if point is None:
            return finish(MessageState.SKIPPED, f"no {CONTACT_KIND[step.channel]} on file")

        zones = candidate_zones(debtor_snap)
        history = batch.history.setdefault(message.debtor_id, [])
        to = point.value if point.kind != "address" else None
        try:
            threatens_suit = self.renderer.meta(step.template).threatens_suit
        except TemplateError as exc:
            return template_failed(exc)
        decision = evaluate(
            Attempt(channel=step.channel, to=to, kind=step.kind, threatens_suit=threatens_suit),
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
                MessageState.BLOCKED, "; ".join(decision.reasons), decision.rules, decision=stored
            )
        if decision.verdict is Verdict.DEFER:
            assert decision.not_before is not None
            return finish(
                MessageState.DEFERRED,
                "; ".join(decision.reasons),
                decision.rules,
                decision=stored,
                due_at=decision.not_before,
            )
        first_contact = is_first_communication(history)
        try:
            outbound = self._render(
                batch, message, step, point, now, zones, message.campaign or "", first_contact
            )
        except TemplateError as exc:
            return template_failed(exc, decision=stored)
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
                decision=blocked.to_dict(),
            )
        if content.text != outbound.text:
            outbound = replace(outbound, text=content.text)
        if content.segments is not None:
            stored = {**stored, "segments": content.segments, "encoding": content.encoding}
        # Later messages in this batch must see this one in the debtor's history (caps).
        if step.kind not in self.policy.responses:
            history.append(Contact(at=now, channel=step.channel, account_id=message.account_id))
        return _Prepared(message, outbound, point.id, stored)

    def _render(
        self,
        batch: BatchContext,
        message: Message,
        step: Step,
        point: ContactPoint,
        now: datetime,
        zones: tuple[str, ...],
        campaign: str,
        first_contact: bool,
    ) -> OutboundMessage:
        debtor = batch.debtors[message.debtor_id]
        account = batch.accounts.get(message.account_id) if message.account_id else None
        points = batch.contact_points.get(message.debtor_id, [])
        address = (
            point
            if point.kind == "address"
            else next((p for p in points if p.kind == "address"), None)
        )
        unsubscribe = (
            self.links.unsubscribe(point.id, message.id) if step.channel == "email" else None
        )
        links = Links(
            pay=self.links.pay(account.id) if account else self.links.base_url,
            dispute=self.links.dispute(account.id) if account else self.links.base_url,
            unsubscribe=unsubscribe,
        )
        sent = batch.validation_sent.get(account.id) if account else None
        context = build_context(
            debtor=debtor,
            account=account,
            agency=self.agency,
            address=address,
            links=links,
            today=local_today(now, zones),
            validation_sent_on=sent.date() if sent else None,
            campaign=campaign,
            step=step.id,
            first_contact=first_contact,
        )
        rendered = self.renderer.render(step.template, context)
        postal = None
        if point.kind == "address" and point.address:
            postal = PostalAddress.from_dict(debtor.full_name, point.address)
        return OutboundMessage(
            message_id=message.id,
            channel=step.channel,
            to=point.value if point.kind != "address" else debtor.full_name,
            text=rendered.text,
            subject=rendered.subject,
            html=rendered.html,
            template=step.template,
            account_ref=mask(account.account_number) if account else "",
            postal=postal,
            unsubscribe_url=unsubscribe,
            status_callback=(
                self.links.status_callback()
                if step.channel == "sms" and self.status_callbacks
                else None
            ),
        )

    def _stop_enrollments(
        self, session: Session, batch: BatchContext, stopped: dict[int, str], now: datetime
    ) -> None:
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
                    Message.state.in_((MessageState.PLANNED, MessageState.DEFERRED)),
                )
            ).all()
            outbox.apply(
                session,
                [
                    Transition(
                        i,
                        None,
                        MessageState.CANCELLED,
                        self.cause,
                        {"reason": f"enrollment stopped: {reason}"},
                    )
                    for i in pending
                ],
                now,
                only_from=(MessageState.PLANNED, MessageState.DEFERRED),
            )

    # --- send -------------------------------------------------------------------------------

    async def _send(self, prepared: _Prepared) -> SendResult:
        channel = self.channels[prepared.outbound.channel]
        async with self._semaphores[channel.name]:
            try:
                return await channel.send(prepared.outbound)
            except Exception as exc:  # a bug in a channel: the send may have happened
                log.exception("channel %s raised for message %s", channel.name, prepared.message.id)
                return SendResult(
                    SendStatus.UNKNOWN, error_code="exception", error_message=repr(exc)
                )

    # --- record -----------------------------------------------------------------------------

    def _record(self, prepared: list[_Prepared], results: list[SendResult]) -> list[Transition]:
        now = self.clock.now()
        transitions: list[Transition] = []
        opted_out: list[int] = []
        for p, result in zip(prepared, results, strict=True):
            transitions.append(self._result_transition(p, result, now))
            if result.opted_out and p.contact_point_id is not None:
                opted_out.append(p.contact_point_id)
            log.info(
                "message %s %s to %s: %s %s",
                p.message.id,
                p.outbound.channel,
                mask(p.outbound.to),
                result.status,
                result.error_code or "",
            )
        with self.factory.begin() as session:
            done = outbox.apply(
                session,
                transitions,
                now,
                only_from=(MessageState.SENDING, MessageState.UNKNOWN),
                lease_owner=self.worker_id,
            )
            if opted_out:
                session.execute(
                    update(ContactPoint)
                    .where(ContactPoint.id.in_(opted_out), ContactPoint.opted_out_at.is_(None))
                    .values(opted_out_at=now, consent="revoked")
                )
        return done

    def _result_transition(self, p: _Prepared, result: SendResult, now: datetime) -> Transition:
        base: dict[str, Any] = {"lease_owner": None, "lease_expires_at": None}
        detail: dict[str, Any] = {"status": result.status.value, **result.detail}
        if result.error_code:
            detail["error_code"] = result.error_code
        error = {"error_code": result.error_code, "error_message": result.error_message}
        m = p.message
        if result.status is SendStatus.SENT:
            values = {
                **base,
                "provider_id": result.provider_id,
                "sent_at": now,
                "artifact": result.detail.get("path"),
            }
            return Transition(
                m.id, MessageState.SENDING, MessageState.SENT, self.cause, detail, values
            )
        if result.status is SendStatus.UNKNOWN:
            return Transition(
                m.id,
                MessageState.SENDING,
                MessageState.UNKNOWN,
                self.cause,
                detail,
                {**base, **error},
            )
        attempts = m.attempts + 1
        if result.status is SendStatus.RETRYABLE and attempts < self.settings.max_send_attempts:
            retry_at = now + self._backoff(attempts)
            detail["retry_at"] = retry_at.isoformat()
            return Transition(
                m.id,
                MessageState.SENDING,
                MessageState.PLANNED,
                self.cause,
                detail,
                {**base, **error, "due_at": retry_at, "sent_at": None},
            )
        return Transition(
            m.id,
            MessageState.SENDING,
            MessageState.FAILED,
            self.cause,
            detail,
            {**base, **error, "sent_at": None},
        )

    def _backoff(self, attempts: int) -> timedelta:
        """Exponential backoff with full jitter, between retry_base and retry_max."""
        ceiling = min(self.settings.retry_max, self.settings.retry_base * 2 ** (attempts - 1))
        return self.settings.retry_base + (ceiling - self.settings.retry_base) * random.random()


# pg_advisory_xact_lock keys: this base plus the debtor id (the planner's key is far below).
DEBTOR_LOCK_BASE = 0x6F75_0000_0000_0000


def _lock_debtors(session: Session, message_ids: list[int]) -> None:
    """Caps are counted from the log, so two workers checking messages of one debtor at the
    same instant could both see room under a cap. On PostgreSQL each worker holds a lock per
    debtor (taken in id order: no deadlocks) from loading the history until its `sending`
    rows are committed; the second worker then sees the first one's sends. SQLite needs
    nothing: BEGIN IMMEDIATE already makes these transactions one at a time."""
    if session.get_bind().dialect.name != "postgresql":
        return
    debtor_ids = sorted(
        set(session.scalars(select(Message.debtor_id).where(Message.id.in_(message_ids))))
    )
    for debtor_id in debtor_ids:
        session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": DEBTOR_LOCK_BASE + debtor_id}
        )


def _adhoc_step(message: Message) -> Step:
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


def _choose_contact(
    points: list[ContactPoint], channel: str, opted_out: frozenset[str]
) -> ContactPoint | None:
    """The best usable contact point; an opted-out one when nothing else is on file, so the
    compliance check blocks it with the rule and reason (rather than a silent skip)."""
    kind = CONTACT_KIND[channel]
    candidates = [p for p in points if p.kind == kind and p.undeliverable_at is None]
    if not candidates:
        return None

    def rank(p: ContactPoint) -> tuple[int, int, int]:
        usable = p.value not in opted_out
        preferred = (channel == "sms" and p.label == "mobile") or (
            channel == "email" and p.label != "work"
        )
        return (0 if usable else 1, 0 if preferred else 1, p.id)

    return min(candidates, key=rank)
