"""The dispatcher: one tick claims a batch of due messages, then check -> send -> record.

Stages, each in its own module: claim (outbox: reap expired leases, lease a batch), check
and render (prepare: compliance over a snapshot loaded in a few queries, compose, content
checks; under the per-debtor lock of locks), send (channels, bounded concurrency per
channel), record (record + actions.delivery, in bulk). Stages pass frozen `Send` values (ids
and plain values), never rows, between them and across threads.
The at-most-once rule: a message is committed as `sending` before its channel is called;
a worker that dies after that leaves it to the reaper, which marks it `unknown`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from outreach.actions import delivery as events
from outreach.channels.base import Channel, SendResult, SendStatus
from outreach.clock import Clock
from outreach.compliance.policy import Policy
from outreach.config.campaigns import Campaign
from outreach.config.settings import AgencySettings
from outreach.db import outbox
from outreach.db.models import Enrollment, Message
from outreach.db.outbox import Transition
from outreach.links import LinkBuilder
from outreach.masking import mask
from outreach.pipeline.compose import Composer
from outreach.pipeline.locks import lock_debtors
from outreach.pipeline.prepare import Preparer, Send
from outreach.pipeline.record import RetryRule, delivery_event
from outreach.pipeline.snapshot import load_batch
from outreach.render.environment import Renderer
from outreach.vocabulary import DUE_STATES, MessageState

log = logging.getLogger(__name__)


@dataclass
class DispatchReport:
    claimed: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    reaped_replanned: int = 0
    reaped_unknown: int = 0

    def __bool__(self) -> bool:
        return self.claimed > 0


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
        sends, decided = await asyncio.to_thread(self._check_and_render, ids, now)
        report.outcomes.update(t.to_state for t in decided)
        if sends:
            results = await asyncio.gather(*(self._send(s) for s in sends))
            recorded = await asyncio.to_thread(self._record, sends, results)
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
    ) -> tuple[list[Send], list[Transition]]:
        """Check and render the claimed batch; commit the decided outcomes and `sending` for
        the rest. Returns the sends to hand to the channels and the decided transitions."""
        preparer = Preparer(
            self.campaigns,
            self.policy,
            Composer(self.renderer, self.links, self.agency, self.status_callbacks),
            self.cause,
        )
        with self.factory.begin() as session:
            lock_debtors(session, ids)
            batch = load_batch(
                session,
                ids,
                now,
                self.policy.longest_cap_days,
                exclude_kinds=self.policy.responses,
            )
            sends: list[Send] = []
            decided: list[Transition] = []
            stopped: dict[int, str] = {}
            for message in batch.messages:
                outcome = preparer.prepare(batch, message, now, stopped)
                if isinstance(outcome, Send):
                    sends.append(outcome)
                else:
                    decided.append(outcome)
            claimed = (MessageState.CLAIMED,)
            decided = outbox.apply(
                session, decided, now, only_from=claimed, lease_owner=self.worker_id
            )
            sending = [s.sending(self.cause, now) for s in sends]
            sent_ids = {
                t.message_id
                for t in outbox.apply(
                    session, sending, now, only_from=claimed, lease_owner=self.worker_id
                )
            }
            self._stop_enrollments(session, stopped, now)
        return [s for s in sends if s.message_id in sent_ids], decided

    def _stop_enrollments(self, session: Session, stopped: dict[int, str], now: datetime) -> None:
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
                        self.cause,
                        {"reason": f"enrollment stopped: {reason}"},
                    )
                    for i in pending
                ],
                now,
                only_from=DUE_STATES,
            )

    # --- send -------------------------------------------------------------------------------

    async def _send(self, send: Send) -> SendResult:
        channel = self.channels[send.channel]
        async with self._semaphores[channel.name]:
            try:
                return await channel.send(send.outbound)
            except Exception as exc:  # a bug in a channel: the send may have happened
                log.exception("channel %s raised for message %s", channel.name, send.message_id)
                return SendResult(
                    SendStatus.UNKNOWN, error_code="exception", error_message=repr(exc)
                )

    # --- record -----------------------------------------------------------------------------

    def _record(self, sends: list[Send], results: list[SendResult]) -> list[Transition]:
        now = self.clock.now()
        retry = RetryRule(
            self.settings.max_send_attempts, self.settings.retry_base, self.settings.retry_max
        )
        reports: list[events.DeliveryEvent] = []
        for send, result in zip(sends, results, strict=True):
            reports.append(delivery_event(send, result, now, self.cause, retry))
            log.info(
                "message %s %s to %s: %s %s",
                send.message_id,
                send.channel,
                mask(send.outbound.to),
                result.status,
                result.error_code or "",
            )
        with self.factory.begin() as session:
            return events.record(
                session,
                now,
                reports,
                only_from=(MessageState.SENDING, MessageState.UNKNOWN),
                lease_owner=self.worker_id,
            )
