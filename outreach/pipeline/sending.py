"""Send and record: one lane per channel, each message committed `sending` just before its
channel call and its result just after.

A lane runs `concurrency` tasks. Each takes a checked (`ready`) message and asks for it to
start: the provider's shared breaker must admit it and the sender's shared rate limit give
it a slot (writes: one transaction for what every lane asks at that moment); a slot still to
come is slept for, the message still `ready`. Then the channel call, then the result
recorded together with the breaker's new state. So a crash leaves `unknown` only what was
really in a channel call; everything else is still `ready` and goes back to planned (drain,
or the reaper once the dead worker's leases run out).

A RETRYABLE result with a Retry-After blocks the sender for every worker (pacing.block).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from outreach.channels.base import Channel, SendResult, SendStatus
from outreach.clock import Clock
from outreach.masking import mask
from outreach.metrics import MESSAGES, PROVIDER_SECONDS, RETRIES, UNKNOWNS
from outreach.pipeline.batching import GroupCommit
from outreach.pipeline.breaker import BreakerRules
from outreach.pipeline.health import Provider
from outreach.pipeline.prepare import Send
from outreach.pipeline.record import RetryRule
from outreach.pipeline.writes import Op, Outcome, Record, Release, Start, Writes
from outreach.vocabulary import MessageState

log = logging.getLogger(__name__)

READY_ONLY = (MessageState.READY,)
RECORDABLE = (MessageState.SENDING, MessageState.UNKNOWN)


@dataclass(frozen=True, slots=True)
class SendSettings:
    concurrency: Mapping[str, int]
    ready_seconds: float = 60.0
    retry: RetryRule = field(
        default_factory=lambda: RetryRule(5, timedelta(seconds=30), timedelta(hours=1))
    )
    breaker: BreakerRules = field(default_factory=BreakerRules)
    claim_horizon_seconds: float = 10.0  # rate-limited lanes hold what they send in this long
    commit_window: float = 0.005  # a write round waits this long for the other lanes' asks


@dataclass(frozen=True, slots=True)
class _Queued:
    send: Send
    ready_at: float  # loop time the check committed it


class Sender:
    def __init__(
        self,
        factory: sessionmaker[Session],
        channels: Mapping[str, Channel],
        providers: Mapping[str, Provider],
        *,
        worker_id: str,
        clock: Clock,
        settings: SendSettings,
        batch_size: int,
    ) -> None:
        self.channels = channels
        self.providers = providers
        self.settings = settings
        self.batch_size = batch_size
        self.outcomes: Counter[str] = Counter()
        self._queues: dict[str, asyncio.Queue[_Queued]] = {n: asyncio.Queue() for n in channels}
        self._held: dict[int, _Queued] = {}  # queued, starting, in a channel call, recording
        self._held_by_channel: Counter[str] = Counter()
        self._finished: dict[str, deque[float]] = {n: deque(maxlen=200) for n in channels}
        self._in_call: dict[int, _Queued] = {}
        self._results: dict[int, SendResult] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._draining = asyncio.Event()
        self._freed = asyncio.Event()  # set whenever a lane lets go of a message
        self.writes = Writes(factory, providers, worker_id, clock, settings.retry, settings.breaker)
        self._busy = 0  # lanes working on a message (the ones that may ask for a write)
        self._writes: GroupCommit[Op, Outcome] = GroupCommit(
            self.writes.round,
            "writes",
            window=settings.commit_window,
            enough=lambda: max(1, self._busy),
        )

    # --- what the dispatcher asks ---------------------------------------------------------

    def held_ids(self) -> list[int]:
        return list(self._held)

    def room(self, channel: str) -> int:
        """How many more checked messages this lane should take: none until it has sent
        half of what it holds (a low-water mark), so claims come in batches, not in ones."""
        # What the lane can send within the horizon: at most the sender's rate, and (once
        # measured) its own pace, so a slow channel (letters) never holds what it cannot send
        # before `ready_seconds` runs out.
        rate = self._pace(channel)
        if (limit := self.providers[channel].per_second) is not None:
            rate = min(rate, limit) if rate is not None else limit
        capacity = self.batch_size
        if rate is not None:
            horizon = int(rate * self.settings.claim_horizon_seconds)
            capacity = min(capacity, max(self.settings.concurrency.get(channel, 4), horizon))
        held = self._held_by_channel[channel]
        return capacity - held if held <= capacity // 2 else 0

    def _pace(self, channel: str) -> float | None:
        """Sends per second this lane finished lately (None until it has finished 20)."""
        done = self._finished[channel]
        if len(done) < 20:
            return None
        return (len(done) - 1) / max(done[-1] - done[0], 1e-3)

    def offer(self, sends: Sequence[Send]) -> None:
        now = asyncio.get_running_loop().time()
        for send in sends:
            queued = _Queued(send, now)
            self._held[send.message_id] = queued
            self._held_by_channel[send.channel] += 1
            self._queues[send.channel].put_nowait(queued)

    def start(self) -> None:
        if self._tasks:
            return
        for name in self.channels:
            for i in range(max(1, self.settings.concurrency.get(name, 4))):
                self._tasks.append(asyncio.create_task(self._lane(name), name=f"{name}-{i}"))

    async def wait_for_room(self, timeout: float) -> None:
        """Until a lane lets go of a message (or `timeout` seconds)."""
        self._freed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._freed.wait(), timeout)

    async def idle(self) -> None:
        """Wait until every offered message is sent and recorded (or released)."""
        await asyncio.gather(*(q.join() for q in self._queues.values()))
        await self._writes.flush()

    async def drain(self, grace: float) -> int:
        """Stop starting sends; give the ones in a channel call `grace` seconds; record the
        rest as cut off (unknown; a letter planned again). Returns how many were cut off."""
        self._draining.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.idle(), timeout=grace)
        cut = [(q.send, self._results.get(i) or _cut_off(grace)) for i, q in self._in_call.items()]
        await self.abort()
        if cut:
            await asyncio.to_thread(self.writes.round, [Record(s, r) for s, r in cut])
        for queue in self._queues.values():  # anything a cancelled task never took
            while not queue.empty():
                queue.get_nowait()
        return len(cut)

    async def abort(self) -> None:
        """Stop at once, writing nothing (a crash, as far as the database is concerned)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    # --- one lane -------------------------------------------------------------------------

    async def _lane(self, name: str) -> None:
        queue = self._queues[name]
        while True:
            queued = await queue.get()
            self._busy += 1
            try:
                await self._process(queued)
            except Exception:  # a database error: the row stays leased; the reaper settles it
                log.exception("lane %s: message %s not settled", name, queued.send.message_id)
            finally:
                self._busy -= 1
                if self._held.pop(queued.send.message_id, None) is not None:
                    self._held_by_channel[name] -= 1
                self._freed.set()
                queue.task_done()

    async def _process(self, queued: _Queued) -> None:
        send = queued.send
        loop = asyncio.get_running_loop()
        if self._draining.is_set():
            await self._put_back(send, "worker stopping: never handed to its channel")
            return
        if loop.time() - queued.ready_at > self.settings.ready_seconds:
            await self._put_back(send, "checked too long ago: it is checked again")
            return
        reserved: float | None = None
        while True:
            outcome = await self._writes.submit(Start(send, reserved))
            if outcome is True:
                break
            if outcome == MessageState.PLANNED:
                self.outcomes[MessageState.PLANNED] += 1  # its breaker is open
            if not isinstance(outcome, float):
                return  # put back (breaker), or the row moved on
            reserved = outcome  # a slot of the sender's rate limit still to come
            if not await self._wait_until(reserved):
                await self._put_back(send, "worker stopping: never handed to its channel")
                return
        self._in_call[send.message_id] = queued
        try:
            began = loop.time()
            try:
                result = await self.channels[send.channel].send(send.outbound)
            except Exception as exc:  # a bug in a channel: the send may have happened
                log.exception("channel %s raised for message %s", send.channel, send.message_id)
                result = SendResult(
                    SendStatus.UNKNOWN, error_code="exception", error_message=repr(exc)
                )
            PROVIDER_SECONDS.labels(send.channel, result.status.value).observe(loop.time() - began)
            self._results[send.message_id] = result
            if result.status is SendStatus.RETRYABLE and result.retry_after:
                provider = self.providers[send.channel]
                await asyncio.to_thread(self.writes.block, provider, result.retry_after)
            state = await self._record(send, result)
            self._count(send, result, state if isinstance(state, str) else None)
            self._finished[send.channel].append(loop.time())
        finally:
            self._in_call.pop(send.message_id, None)
            self._results.pop(send.message_id, None)

    async def _record(self, send: Send, result: SendResult) -> Outcome:
        """The result written, retried while the database is briefly away (the send went:
        its outcome must not be lost to a failover)."""
        try:
            return await self._writes.submit(Record(send, result))
        except DBAPIError:
            pass
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(DBAPIError),
            stop=stop_after_delay(30),
            wait=wait_exponential(multiplier=0.2, max=5),
            reraise=True,
        )
        return await retrying(self._writes.submit, Record(send, result))

    async def _put_back(self, send: Send, reason: str) -> None:
        if await self._writes.submit(Release(send, reason)) is True:
            self.outcomes[MessageState.PLANNED] += 1

    async def _wait_until(self, slot: float) -> bool:
        """Sleep until the reserved slot (epoch seconds); False when a drain began."""
        delay = slot - time.time()
        if delay > 0:
            try:
                await asyncio.wait_for(self._draining.wait(), timeout=delay)
            except TimeoutError:
                return True
        return not self._draining.is_set()

    # --- counting ---------------------------------------------------------------------

    def _count(self, send: Send, result: SendResult, state: str | None) -> None:
        log.info(
            "message %s %s to %s: %s %s",
            send.message_id,
            send.channel,
            mask(send.outbound.to),
            result.status,
            result.error_code or "",
        )
        if state is None:
            return
        self.outcomes[state] += 1
        MESSAGES.labels(send.channel, state, result.error_code or "").inc()
        if result.status is SendStatus.RETRYABLE and state == MessageState.PLANNED:
            RETRIES.labels(send.channel, result.error_code or "").inc()
        if state == MessageState.UNKNOWN:
            UNKNOWNS.labels(send.channel, result.error_code or "unknown").inc()


def _cut_off(grace: float) -> SendResult:
    return SendResult(
        SendStatus.UNKNOWN,
        error_code="drain_timeout",
        error_message=f"the worker stopped {grace:g}s into the send: it may have gone out",
    )
