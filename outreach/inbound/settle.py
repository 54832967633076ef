"""Settle unknown SMS sends by asking Twilio: an `unknown` message that has a SID (Twilio
took the request, we never learned the outcome) is looked up and recorded like a status
callback, through `inbound.status.record_status` (forward only, opt-out codes included):
queued/accepted/sending/sent -> sent, delivered -> delivered, undelivered/failed -> the
same with Twilio's error code. A SID Twilio does not know (404) or a failed lookup leaves
the message unknown, for a later pass or a person (actions.unknowns).

The worker schedules `settle_unknowns`. Database work runs in `asyncio.to_thread` (as the
dispatcher's does) in two short transactions around the lookups, never across them; each
row is re-read under its lock before it is written, so a message that a callback or a
person settled meanwhile, or that was requeued, is left alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from outreach.channels.twilio_lookup import LookupFailed, ProviderStatus
from outreach.db.models import Message
from outreach.inbound.status import UnknownStatus, record_status
from outreach.vocabulary import Channel, MessageState

log = logging.getLogger(__name__)

CONCURRENCY = 4  # lookups in flight at once: Twilio's API has its own rate limits
VIA = "lookup"


class Lookup(Protocol):
    async def fetch(self, sid: str) -> ProviderStatus | None: ...


@dataclass(frozen=True, slots=True)
class SettleReport:
    looked_up: int = 0  # messages asked about
    settled: int = 0  # moved out of unknown
    not_found: int = 0  # Twilio does not know the SID: left unknown
    failed: int = 0  # the lookup failed, or Twilio's answer is not a status we know
    skipped: int = 0  # settled or requeued by someone else meanwhile
    by_state: dict[str, int] = field(default_factory=dict)  # settled, per new state


@dataclass(frozen=True, slots=True)
class _Candidate:
    message_id: int
    sid: str


async def settle_unknowns(
    factory: sessionmaker[Session], lookup: Lookup, now: datetime, limit: int = 100
) -> SettleReport:
    """One pass over at most `limit` unknown SMS messages with a SID, oldest first."""
    candidates = await asyncio.to_thread(_candidates, factory, limit)
    if not candidates:
        return SettleReport()
    gate = asyncio.Semaphore(CONCURRENCY)

    async def ask(c: _Candidate) -> ProviderStatus | LookupFailed | None:
        async with gate:
            try:
                return await lookup.fetch(c.sid)
            except LookupFailed as exc:
                log.warning("lookup of message %s (%s) failed: %s", c.message_id, c.sid, exc)
                return exc

    answers = await asyncio.gather(*(ask(c) for c in candidates))
    pairs = list(zip(candidates, answers, strict=True))
    found = [(c, a) for c, a in pairs if isinstance(a, ProviderStatus)]
    failed = sum(1 for a in answers if isinstance(a, LookupFailed))
    not_found = 0
    for c, a in pairs:
        if a is None:
            not_found += 1
            log.info("Twilio does not know %s (message %s): left unknown", c.sid, c.message_id)
    states, skipped, unreadable = await asyncio.to_thread(_record, factory, found, now)
    return SettleReport(
        looked_up=len(candidates),
        settled=sum(states.values()),
        not_found=not_found,
        failed=failed + unreadable,
        skipped=skipped,
        by_state=dict(states),
    )


def _candidates(factory: sessionmaker[Session], limit: int) -> list[_Candidate]:
    with factory() as session:
        rows = session.execute(
            select(Message.id, Message.provider_id)
            .where(
                Message.state == MessageState.UNKNOWN,
                Message.channel == Channel.SMS,
                Message.provider_id.is_not(None),
            )
            .order_by(Message.updated_at, Message.id)
            .limit(limit)
        ).all()
    return [_Candidate(r.id, r.provider_id) for r in rows if r.provider_id]


def _record(
    factory: sessionmaker[Session],
    found: list[tuple[_Candidate, ProviderStatus]],
    now: datetime,
) -> tuple[Counter[str], int, int]:
    """Record the answers in one transaction: (settled per state, skipped, unreadable)."""
    states: Counter[str] = Counter()
    skipped = unreadable = 0
    if not found:
        return states, skipped, unreadable
    with factory.begin() as session:
        for candidate, answer in found:
            still = session.scalar(
                select(Message.id)
                .where(
                    Message.id == candidate.message_id,
                    Message.state == MessageState.UNKNOWN,
                    Message.provider_id == candidate.sid,
                )
                .with_for_update()
            )
            if still is None:
                skipped += 1
                continue
            try:
                result = record_status(
                    session,
                    now,
                    sid=candidate.sid,
                    status=answer.status,
                    error_code=answer.error_code,
                    via=VIA,
                )
            except UnknownStatus as exc:
                log.warning("message %s: Twilio says %s: left unknown", candidate.message_id, exc)
                unreadable += 1
                continue
            if result.moved and result.state:
                states[result.state] += 1
    return states, skipped, unreadable
