"""The lanes' writes, one transaction per round: what every lane asks at the same moment
(start these sends, record those results, put these back) is written together.

A round locks in one order, always: provider rows by key (the breakers: results reported
first, so a breaker these results open refuses this round's starts), then the senders'
pacing rows, then message rows. Starting a send reserves its slot of the sender's rate
limit in the same transaction; a send whose slot is still to come stays `ready` and is
started, without a second reservation, once its slot has come.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from outreach.actions import delivery as events
from outreach.channels.base import SendResult, SendStatus
from outreach.clock import Clock
from outreach.db import outbox
from outreach.db.outbox import Transition
from outreach.db.workers import ProviderHealth
from outreach.pipeline import health, pacing
from outreach.pipeline.breaker import BreakerRules
from outreach.pipeline.health import Provider
from outreach.pipeline.prepare import Send
from outreach.pipeline.record import RetryRule, delivery_event
from outreach.vocabulary import MessageState

log = logging.getLogger(__name__)

READY_ONLY = (MessageState.READY,)
RECORDABLE = (MessageState.SENDING, MessageState.UNKNOWN)
NOW_SLACK = 0.002  # a slot this close to now is now


@dataclass(frozen=True, slots=True)
class Start:
    """ready -> sending, if the breaker admits it and its slot has come."""

    send: Send
    reserved: float | None = None  # the slot reserved by an earlier round


@dataclass(frozen=True, slots=True)
class Record:
    send: Send
    result: SendResult


@dataclass(frozen=True, slots=True)
class Release:
    """ready -> planned: never handed to its channel."""

    send: Send
    reason: str


Op = Start | Record | Release
# Start: True (sending now), False (the row moved on), a float (wait for that slot),
# "planned" (the breaker refused it: back to planned);
# Record: the state it moved to, or None; Release: whether it moved.
Outcome = bool | float | str | None


def provider_failed(result: SendResult) -> bool:
    """What counts against a provider's health: it did not answer properly. A refusal of
    one message (PERMANENT) is a healthy answer; a 429 is pacing's business."""
    if result.status is SendStatus.UNKNOWN:
        return True
    return result.status is SendStatus.RETRYABLE and not result.rate_limited


@dataclass
class Writes:
    factory: sessionmaker[Session]
    providers: Mapping[str, Provider]
    worker_id: str
    clock: Clock
    retry: RetryRule
    breaker: BreakerRules

    @property
    def cause(self) -> str:
        return outbox.dispatcher_cause(self.worker_id)

    def round(self, ops: Sequence[Op]) -> list[Outcome]:
        now, wall = self.clock.now(), time.time()
        out: dict[int, Outcome] = {}
        starts: dict[Provider, list[tuple[int, Start]]] = defaultdict(list)
        records: dict[Provider, list[tuple[int, Record]]] = defaultdict(list)
        for i, op in enumerate(ops):
            if isinstance(op, Start):
                starts[self.providers[op.send.channel]].append((i, op))
            elif isinstance(op, Record):
                records[self.providers[op.send.channel]].append((i, op))
        going: list[tuple[int, Send]] = []
        refused: list[tuple[int, Send]] = []
        with self.factory.begin() as session:
            for provider in sorted(set(starts) | set(records), key=lambda p: p.key):
                row = health.lock(session, provider, now)
                if records[provider]:
                    results = [_health_result(r.result) for _, r in records[provider]]
                    health.report(session, row, results, self.worker_id, now, self.breaker)
                if starts[provider]:
                    self._admit(
                        session, provider, row, starts[provider], now, wall, out, going, refused
                    )
            releases = [
                (i, op.send.release(self.cause, op.reason))
                for i, op in enumerate(ops)
                if isinstance(op, Release)
            ] + [
                (i, s.release(self.cause, "its provider is paused (circuit breaker)"))
                for i, s in refused
            ]
            moved = outbox.apply(
                session,
                [s.sending(self.cause, now) for _, s in going],
                now,
                only_from=READY_ONLY,
                lease_owner=self.worker_id,
            )
            released = outbox.apply(
                session,
                [t for _, t in releases],
                now,
                only_from=READY_ONLY,
                lease_owner=self.worker_id,
            )
            recorded = self._record(session, ops, now)
        started = {t.message_id for t in moved}
        for i, send in going:
            out[i] = send.message_id in started
        back = {t.message_id for t in released}
        for i, transition in releases:
            moved_back = transition.message_id in back
            if isinstance(ops[i], Release):
                out[i] = moved_back
            else:
                out[i] = MessageState.PLANNED.value if moved_back else False
        for i, state in recorded.items():
            out[i] = state
        return [out.get(i) for i in range(len(ops))]

    def _admit(
        self,
        session: Session,
        provider: Provider,
        row: ProviderHealth,
        wanted: list[tuple[int, Start]],
        now: datetime,
        wall: float,
        out: dict[int, Outcome],
        going: list[tuple[int, Send]],
        refused: list[tuple[int, Send]],
    ) -> None:
        """The breaker first, then the rate limit: admitted sends whose slot has come go."""
        fresh = [(i, op) for i, op in wanted if op.reserved is None]
        waited = [(i, op) for i, op in wanted if op.reserved is not None]
        n = health.admit(session, row, len(fresh), self.worker_id, now, self.breaker)
        refused += [(i, op.send) for i, op in fresh[n:]]
        fresh = fresh[:n]
        if waited and not health.still_admits(row, self.worker_id):
            refused += [(i, op.send) for i, op in waited]
            waited = []
        going += [(i, op.send) for i, op in waited]
        if provider.per_second is None or not fresh:
            going += [(i, op.send) for i, op in fresh]
            return
        slots = pacing.reserve(session, provider.key, provider.per_second, len(fresh), wall)
        for (i, op), slot in zip(fresh, slots, strict=True):
            if slot <= wall + NOW_SLACK:
                going.append((i, op.send))
            else:
                out[i] = slot

    def _record(self, session: Session, ops: Sequence[Op], now: datetime) -> dict[int, str | None]:
        items = [(i, op) for i, op in enumerate(ops) if isinstance(op, Record)]
        if not items:
            return {}
        reports = [
            delivery_event(op.send, op.result, now, self.cause, self.retry) for _, op in items
        ]
        moved: list[Transition] = events.record(
            session, now, reports, only_from=RECORDABLE, lease_owner=self.worker_id
        )
        states = {t.message_id: t.to_state for t in moved}
        return {i: states.get(op.send.message_id) for i, op in items}

    def block(self, provider: Provider, seconds: float) -> None:
        """No send through `provider` before `seconds` from now (its Retry-After)."""
        wall = time.time()
        with self.factory.begin() as session:
            pacing.block(session, provider.key, wall + seconds, wall)
        log.warning("%s asked to wait %.1fs (Retry-After)", provider.key, seconds)


def _health_result(result: SendResult) -> health.Result:
    error = f"{result.error_code}: {result.error_message}" if result.error_code else None
    return health.Result(provider_failed(result), error)
