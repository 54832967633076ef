"""The dispatcher: claim due messages, check and render them, hand them to the send lanes.

Stages, each in its own module: claim (outbox: reap dead workers' leases, lease due
messages per channel, never for a provider whose breaker is open), check and render
(prepare: compliance over a snapshot loaded in a few queries; under the per-debtor lock of
locks, committed as `ready`, which counts against caps), send and record (sending: lanes
with per-send commits, shared pacing and breakers). Stages pass frozen `Send` values, never
rows, between them and across threads.

At most once: a message is committed `sending` just before its channel call. A live worker
renews its leases (heartbeat); a dead one's run out and the reaper settles them: `ready`
back to planned, `sending` to unknown (a letter: planned, it is produced idempotently).
A drain (SIGTERM) stops claiming, lets the sends in a channel call finish within a grace
period, releases the rest to planned and records everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from outreach.channels.base import Channel, prepare
from outreach.clock import Clock
from outreach.compliance.policy import Policy
from outreach.config.campaigns import Campaign
from outreach.config.settings import AgencySettings
from outreach.db import outbox
from outreach.db.engine import reading
from outreach.db.outbox import Transition
from outreach.links import LinkBuilder
from outreach.metrics import DRAIN_SECONDS, MESSAGES
from outreach.pipeline import health, workers
from outreach.pipeline.breaker import BreakerRules
from outreach.pipeline.compose import Composer
from outreach.pipeline.health import Provider
from outreach.pipeline.locks import lock_debtors
from outreach.pipeline.prepare import Preparer, Send, stop_enrollments
from outreach.pipeline.record import RetryRule
from outreach.pipeline.sending import Sender, SendSettings
from outreach.pipeline.snapshot import BatchContext, load_batch
from outreach.render.environment import Renderer
from outreach.vocabulary import MessageState

log = logging.getLogger(__name__)


@dataclass
class DispatchReport:
    claimed: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    reaped_replanned: int = 0
    reaped_unknown: int = 0

    def __bool__(self) -> bool:
        return self.claimed > 0

    def add(self, other: DispatchReport) -> None:
        self.claimed += other.claimed
        self.outcomes.update(other.outcomes)
        self.reaped_replanned += other.reaped_replanned
        self.reaped_unknown += other.reaped_unknown


@dataclass(frozen=True)
class DrainReport:
    seconds: float
    cut_off: int  # sends still in a channel call when the grace period ended
    released: int  # checked or claimed messages put back to planned


@dataclass(frozen=True)
class DispatcherSettings:
    batch_size: int = 200
    lease: timedelta = timedelta(minutes=5)
    heartbeat: timedelta = timedelta(seconds=100)
    max_send_attempts: int = 5
    retry_base: timedelta = timedelta(seconds=30)
    retry_max: timedelta = timedelta(hours=1)
    ready_seconds: float = 60.0
    concurrency: Mapping[str, int] = field(
        default_factory=lambda: {"sms": 8, "email": 8, "letter": 2}
    )
    breaker: BreakerRules = field(default_factory=BreakerRules)


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


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
        providers: Mapping[str, Provider] | None = None,
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
        self.providers = {
            name: (providers or {}).get(name) or Provider(f"{name}:default", name)
            for name in channels
        }
        self._sender: Sender | None = None
        self._checking: set[int] = set()
        self._filling: asyncio.Task[DispatchReport] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def cause(self) -> str:
        return outbox.dispatcher_cause(self.worker_id)

    @property
    def sender(self) -> Sender:
        if self._sender is None:
            s = self.settings
            self._sender = Sender(
                self.factory,
                self.channels,
                self.providers,
                worker_id=self.worker_id,
                clock=self.clock,
                settings=SendSettings(
                    concurrency=s.concurrency,
                    ready_seconds=s.ready_seconds,
                    retry=RetryRule(s.max_send_attempts, s.retry_base, s.retry_max),
                    breaker=s.breaker,
                ),
                batch_size=s.batch_size,
            )
        return self._sender

    # --- running ----------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Dispatcher]:
        """Lanes up for the block; on a normal exit everything offered is sent and recorded.
        An exception or a cancellation stops the lanes writing nothing, as a crash would."""
        self.sender.start()
        try:
            yield self
        except BaseException:
            await self.sender.abort()
            raise
        await self.sender.idle()
        await self.sender.abort()  # idle lanes: nothing left to write

    async def tick(self) -> DispatchReport:
        """One batch claimed, checked, sent and recorded."""
        async with self.running():
            report = await self._batch()
            before = Counter(self.sender.outcomes)
            await self.sender.idle()
            report.outcomes.update(self.sender.outcomes - before)
        return report

    async def run_until_idle(
        self, max_batches: int = 10_000, limit: int | None = None
    ) -> DispatchReport:
        """Dispatch until nothing is due at the clock's current time (tests, cron, demo), or
        until at least `limit` messages were claimed."""
        total = DispatchReport()
        async with self.running():
            for _ in range(max_batches):
                if limit is not None and total.claimed >= limit:
                    break
                before = Counter(self.sender.outcomes)
                report = await self.fill()
                await self.sender.idle()
                report.outcomes.update(self.sender.outcomes - before)
                total.add(report)
                if not report:
                    break
        return total

    def start(self) -> None:
        """Long-running mode (`outreach worker`, `serve`): lanes and the heartbeat run until
        `drain`; the scheduler calls `fill` every few seconds."""
        self.sender.start()
        if self._heartbeat is None:
            self._heartbeat = asyncio.create_task(self._beat(), name="heartbeat")

    async def fill(
        self, max_batches: int = 50, alive: Callable[[], None] | None = None
    ) -> DispatchReport:
        """Claim and check batches while the lanes have room and messages are due; returns
        without waiting for the sends. `alive` is called on every round (a long fill of a
        busy worker is a live scheduler, for /readyz)."""
        if self._stopping:
            return DispatchReport()
        self._filling = asyncio.ensure_future(self._fill(max_batches, alive))
        return await asyncio.shield(self._filling)  # a cancelled job never strands a batch

    async def _fill(self, max_batches: int, alive: Callable[[], None] | None) -> DispatchReport:
        total = DispatchReport()
        for _ in range(max_batches):
            if alive is not None:
                alive()
            if self._stopping:
                break
            full = [name for name in self.channels if self.sender.room(name) <= 0]
            if len(full) == len(self.channels):
                await self.sender.wait_for_room(timeout=1.0)  # every lane is busy
                continue
            report = await self._batch()
            total.add(report)
            if not report:
                if not full:
                    break  # every lane had room and nothing was due
                await self.sender.wait_for_room(timeout=1.0)
        return total

    async def drain(self, grace: float) -> DrainReport:
        """Stop claiming, let in-flight sends finish within `grace` seconds, put back what
        never reached a channel, record everything, mark this worker stopped."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        self._stopping = True
        if self._filling is not None:
            with contextlib.suppress(Exception):
                await self._filling
        cut = await self.sender.drain(grace)
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)
        released = await asyncio.to_thread(self._release_and_stop)
        seconds = loop.time() - began
        DRAIN_SECONDS.observe(seconds)
        log.info(
            "drained in %.2fs: %d cut off (recorded unknown), %d put back to planned",
            seconds,
            cut,
            released,
        )
        return DrainReport(seconds, cut, released)

    # --- heartbeat --------------------------------------------------------------------------

    async def _beat(self) -> None:
        seconds = self.settings.heartbeat.total_seconds()
        while True:
            try:
                await asyncio.to_thread(self._renew, "running")
            except Exception:  # the database is away: leases hold until lease_seconds
                log.exception("heartbeat failed")
            await asyncio.sleep(seconds)

    def _renew(self, state: str) -> None:
        now = self.clock.now()
        held = sorted(self._checking | set(self.sender.held_ids()))
        with self.factory.begin() as session:
            outbox.renew(session, self.worker_id, held, now + self.settings.lease)
            workers.beat(session, self.worker_id, self.channels, state, now)

    def _release_and_stop(self) -> int:
        now = self.clock.now()
        with self.factory.begin() as session:
            released = outbox.release_unsent(
                session, self.worker_id, now, "worker stopping: never handed to its channel"
            )
            workers.beat(session, self.worker_id, self.channels, "stopped", now)
        return released

    # --- claim ------------------------------------------------------------------------------

    async def _batch(self) -> DispatchReport:
        report = DispatchReport()
        now = self.clock.now()
        rooms = {name: self.sender.room(name) for name in self.channels}
        report.reaped_replanned, report.reaped_unknown, ids = await asyncio.to_thread(
            self._reap_and_claim, now, rooms
        )
        report.claimed = len(ids)
        if not ids:
            return report
        self._checking.update(ids)
        try:
            sends, decided = await asyncio.to_thread(self._check_and_render, ids, now)
        finally:
            self._checking.difference_update(ids)
        report.outcomes.update(t.to_state for t in decided)
        self.sender.offer(sends)
        return report

    def _reap_and_claim(
        self, now: datetime, rooms: Mapping[str, int]
    ) -> tuple[int, int, list[int]]:
        with self.factory.begin() as session:
            replanned, unknown = outbox.reap_expired(session, now)
            workers.mark_lost(session, now, self.settings.lease)
        ids: list[int] = []
        with self.factory.begin() as session:
            limits = health.admission(session, [p.key for p in self.providers.values()], now)
            for name, room in rooms.items():
                admitted = limits[self.providers[name].key]
                limit = min(room, self.settings.batch_size, room if admitted is None else admitted)
                if limit > 0:
                    ids += outbox.claim(
                        session, self.worker_id, now, limit, self.settings.lease, channels=[name]
                    )
        return replanned, unknown, ids

    # --- check and render -----------------------------------------------------------------

    def _check_and_render(
        self, ids: list[int], now: datetime
    ) -> tuple[list[Send], list[Transition]]:
        """Check and render the claimed batch; commit the decided outcomes and `ready` for
        the rest (it counts against caps from then on). Returns the sends to hand to the
        lanes and the decided transitions.

        The batch is read and rendered outside any write transaction (on SQLite the write
        lock is the whole database's), then read again under the per-debtor locks: a debtor
        whose evidence changed meanwhile (another worker's send, an opt-out, a new hold) is
        checked again there, so every decision stands on what was true at its commit."""
        preparer = Preparer(
            self.campaigns,
            self.policy,
            Composer(self.renderer, self.links, self.agency, self.status_callbacks),
            self.cause,
        )
        with reading(self.factory) as session:
            batch = self._load(session, ids, now)
        seen = batch.evidence()
        outcomes = preparer.prepare_all(batch, now)
        with self.factory.begin() as session:
            lock_debtors(session, ids)
            fresh = self._load(session, ids, now)
            changed = {d for d, evidence in fresh.evidence().items() if seen.get(d) != evidence}
            if changed:
                outcomes.update(preparer.prepare_all(fresh, now, changed))
            sends: list[Send] = []
            decided: list[Transition] = []
            stopped: dict[int, str] = {}
            for message in fresh.messages:
                outcome, stops = outcomes[message.id]
                stopped.update(stops)
                if isinstance(outcome, Send):
                    sends.append(outcome)
                else:
                    decided.append(outcome)
            claimed = (MessageState.CLAIMED,)
            decided = outbox.apply(
                session, decided, now, only_from=claimed, lease_owner=self.worker_id
            )
            ready = [s.ready(self.cause, now) for s in sends]
            ready_ids = {
                t.message_id
                for t in outbox.apply(
                    session, ready, now, only_from=claimed, lease_owner=self.worker_id
                )
            }
            stop_enrollments(session, stopped, now, self.cause)
        channels = {m.id: m.channel for m in fresh.messages}
        for t in decided:
            rules = (t.detail or {}).get("rules") or [""]
            MESSAGES.labels(channels.get(t.message_id, ""), t.to_state, rules[0]).inc()
        # The channels' wire forms (MIME bytes) are built here, off the event loop.
        ready_sends = [
            replace(s, outbound=prepare(self.channels[s.channel], s.outbound))
            for s in sends
            if s.message_id in ready_ids
        ]
        return ready_sends, decided

    def _load(self, session: Session, ids: list[int], now: datetime) -> BatchContext:
        return load_batch(
            session, ids, now, self.policy.longest_cap_days, exclude_kinds=self.policy.responses
        )
