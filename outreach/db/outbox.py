"""The outbox: claim due messages, reap expired leases, and record every transition.

All state changes of the message log go through here, each with a MessageEvent, so the
log is the audit trail. Claiming is one short transaction: `FOR UPDATE SKIP LOCKED` on
PostgreSQL (many workers); on SQLite the `BEGIN IMMEDIATE` of outreach.db serializes it.
A bulk transition reads the rows' states under the same lock before it writes them, so each
event records the state the row really had, not the one the caller expected.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, TypedDict

from sqlalchemy import Select, Update, bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from outreach.db.engine import INDEXED_BY
from outreach.db.models import CampaignRow, Message, MessageEvent, due_index
from outreach.db.types import table_of
from outreach.vocabulary import (
    DUE_STATES,
    LEASED_STATES,
    RERUNNABLE_CHANNELS,
    Channel,
    MessageState,
)


class Changes(TypedDict, total=False):
    """The columns of a message a transition may change besides its state; a key that is
    absent is left as it is, a key set to None clears the column."""

    lease_owner: str | None
    lease_expires_at: datetime | None
    subject: str | None
    body: str | None
    html: str | None
    to_address: str | None
    contact_point_id: int | None
    decision: dict[str, Any] | None
    due_at: datetime
    sent_at: datetime | None
    attempts: int
    provider_id: str | None
    artifact: str | None
    error_code: str | None
    error_message: str | None


@dataclass(frozen=True, slots=True)
class Transition:
    """One message moving from one state to another, with the columns that change.

    `from_state` is what the caller expects; `apply` records the state the row really had."""

    message_id: int
    from_state: str | None
    to_state: str
    cause: str
    detail: dict[str, Any] | None = None
    values: Changes = field(default_factory=lambda: Changes())


_MESSAGES = table_of(Message)
_EVENTS = table_of(MessageEvent)


def dispatcher_cause(worker: str) -> str:
    """How a worker signs the events it causes (the log's `cause` column)."""
    return f"dispatcher:{worker}"


_INSERT_EVENTS = insert(_EVENTS)


def record_events(session: Session, transitions: Iterable[Transition], at: datetime) -> None:
    rows = [
        {
            "message_id": t.message_id,
            "at": at,
            "from_state": t.from_state,
            "to_state": t.to_state,
            "cause": t.cause,
            "detail": t.detail,
        }
        for t in transitions
    ]
    if rows:
        # A Core executemany on the session's connection: neither the ORM's bulk-insert
        # pass nor its statement execution (the send path writes events in every round).
        session.connection().execute(_INSERT_EVENTS, rows)


@lru_cache(maxsize=8)
def _states_query(only_from: bool, lease_owner: bool) -> Select[Any]:
    """The locked read of the rows' states before a bulk transition, built once per shape."""
    c = _MESSAGES.c
    query = select(c.id, c.state).where(c.id.in_(bindparam("ids", expanding=True)))
    if only_from:
        query = query.where(c.state.in_(bindparam("only_from", expanding=True)))
    if lease_owner:
        query = query.where(c.lease_owner == bindparam("lease_owner"))
    return query.with_for_update()


@lru_cache(maxsize=64)
def _update(keys: tuple[str, ...]) -> Update:
    """UPDATE messages SET <keys> WHERE id = :_id, built once per set of columns (bind
    names must differ from column names in an UPDATE's SET clause)."""
    return (
        update(_MESSAGES)
        .where(_MESSAGES.c.id == bindparam("_id"))
        .values({k: bindparam(f"v_{k}") for k in keys})
    )


def apply(
    session: Session,
    transitions: Sequence[Transition],
    at: datetime,
    *,
    only_from: Sequence[str] | None = None,
    lease_owner: str | None = None,
) -> list[Transition]:
    """Write transitions in bulk. With `only_from`/`lease_owner`, a row that moved on
    meanwhile (say, reaped) is left alone and gets no event. Each event's `from_state` is the
    row's state as read under the row lock (FOR UPDATE on PostgreSQL, the BEGIN IMMEDIATE
    write lock on SQLite), so a message reaped to unknown reads `unknown -> sent`, never
    `sending -> sent`. Returns what took effect, with those states.

    Statements are built once and run on the session's connection: this runs several times
    in every round of the send path, where building and ORM execution cost more than SQL."""
    if not transitions:
        return []
    conn = session.connection()
    params: dict[str, Any] = {"ids": [t.message_id for t in transitions]}
    if only_from is not None:
        params["only_from"] = [str(s) for s in only_from]
    if lease_owner is not None:
        params["lease_owner"] = lease_owner
    query = _states_query(only_from is not None, lease_owner is not None)
    states: dict[int, str] = {row[0]: row[1] for row in conn.execute(query, params)}
    transitions = [
        replace(t, from_state=states[t.message_id]) for t in transitions if t.message_id in states
    ]
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for t in transitions:
        values: dict[str, Any] = {"state": t.to_state, "updated_at": at, **t.values}
        row = {"_id": t.message_id, **{f"v_{k}": v for k, v in values.items()}}
        groups.setdefault(tuple(sorted(values)), []).append(row)
    for keys, rows in groups.items():
        conn.execute(_update(keys), rows)
    record_events(session, transitions, at)
    return list(transitions)


def _state_in(states: Sequence[str]) -> ColumnElement[bool]:
    """`state IN (...)` with the states as constants in the SQL, so it matches the partial
    indexes' predicates (ix_messages_due_<channel>, ix_messages_leased) in every plan."""
    literal: BindParameter[list[str]] = bindparam(
        None, [str(s) for s in states], expanding=True, literal_execute=True
    )
    return Message.state.in_(literal)


def claim_statement(
    now: datetime, limit: int, channels: Sequence[str] | None = None
) -> Select[int, str]:
    """The claim's SELECT: the `limit` oldest due messages of `channels`, locked, skipping
    rows another worker holds. With one channel it is a range walk of that channel's partial
    index, ix_messages_due_<channel> (due_at, id), that stops after `limit` rows however many
    messages were ever sent or are due later. The due states and the channel are rendered as
    constants (not bound), so the planner proves the index's predicate on every execution,
    prepared or not; the paused campaigns' names are a hashed filter on the rows walked, not
    a join over the backlog. Several channels (or all) walk or sort the due rows of them all."""
    paused = select(CampaignRow.name).where(CampaignRow.status == "paused")
    query = select(Message.id, Message.state).where(
        _state_in(DUE_STATES),
        Message.due_at <= now,
        (Message.campaign.is_(None)) | (Message.campaign.not_in(paused)),
    )
    if channels is not None and len(channels) == 1:
        query = query.where(Message.channel == bindparam(None, channels[0], literal_execute=True))
        # SQLite plans from sampled statistics (analysis_limit): at a 1M backlog they made
        # `state IN (...)` look selective, and it sorted the whole backlog for every claim
        # (276 ms a claim, against 1.4 ms through the channel's index).
        if channels[0] in tuple(Channel):
            query = query.execution_options(**{INDEXED_BY: ("messages", due_index(channels[0]))})
    elif channels is not None:
        query = query.where(Message.channel.in_(channels))
    return query.order_by(Message.due_at, Message.id).limit(limit).with_for_update(skip_locked=True)


def claim(
    session: Session,
    worker: str,
    now: datetime,
    limit: int,
    lease: timedelta,
    channels: Sequence[str] | None = None,
) -> list[int]:
    """Lease up to `limit` due messages (oldest due first) of `channels` (all when None) to
    `worker`; returns their ids. The dispatcher claims one channel at a time: that is the
    O(batch) path (several channels in one claim sort the due rows of those channels)."""
    rows = session.execute(claim_statement(now, limit, channels)).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    session.execute(
        update(Message)
        .where(Message.id.in_(ids))
        .values(
            state=MessageState.CLAIMED,
            lease_owner=worker,
            lease_expires_at=now + lease,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    record_events(
        session,
        (Transition(r.id, r.state, MessageState.CLAIMED, dispatcher_cause(worker)) for r in rows),
        now,
    )
    return ids


def renew(session: Session, worker: str, ids: Sequence[int], until: datetime) -> int:
    """A live worker's heartbeat: extend its leases on `ids` (the messages it holds in
    memory) so only a dead worker's rows are ever reaped. Returns how many were renewed."""
    if not ids:
        return 0
    result = session.execute(
        update(Message)
        .where(
            Message.id.in_(ids),
            Message.lease_owner == worker,
            _state_in(LEASED_STATES),
        )
        .values(lease_expires_at=until)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _back_to_planned() -> Changes:
    return Changes(lease_owner=None, lease_expires_at=None, sent_at=None)


def release_unsent(session: Session, worker: str, now: datetime, reason: str) -> int:
    """Everything `worker` leased but never handed to a channel goes back to planned (the
    end of a drain; also catches a batch claimed while the worker was stopping)."""
    rows = session.execute(
        select(Message.id, Message.state).where(
            Message.lease_owner == worker,
            _state_in((MessageState.CLAIMED, MessageState.READY)),
        )
    ).all()
    transitions = [
        Transition(
            r.id,
            r.state,
            MessageState.PLANNED,
            dispatcher_cause(worker),
            {"reason": reason},
            _back_to_planned(),
        )
        for r in rows
    ]
    done = apply(
        session,
        transitions,
        now,
        only_from=(MessageState.CLAIMED, MessageState.READY),
        lease_owner=worker,
    )
    return len(done)


def expired_statement(now: datetime) -> Select[int, str, str]:
    """The reaper's SELECT: leases that ran out, a walk of ix_messages_leased (the rows in
    flight only), locked, skipping rows a live transaction holds."""
    return (
        select(Message.id, Message.state, Message.channel)
        .where(_state_in(LEASED_STATES), Message.lease_expires_at < now)
        .with_for_update(skip_locked=True)
    )


def reap_expired(session: Session, now: datetime) -> tuple[int, int]:
    """Leases that ran out (their worker stopped renewing them: it died). Claimed and ready
    messages were never handed to a channel: back to planned. A sending one may have gone
    out: unknown (never resent), except a letter, which is produced again idempotently."""
    expired = session.execute(expired_statement(now)).all()
    unsent = [r for r in expired if r.state != MessageState.SENDING]
    rerun = [
        r for r in expired if r.state == MessageState.SENDING and r.channel in RERUNNABLE_CHANNELS
    ]
    unknown = [
        r.id
        for r in expired
        if r.state == MessageState.SENDING and r.channel not in RERUNNABLE_CHANNELS
    ]
    transitions = (
        [
            Transition(
                r.id,
                r.state,
                MessageState.PLANNED,
                "reaper",
                {"reason": "lease expired before the send started"},
                _back_to_planned(),
            )
            for r in unsent
        ]
        + [
            Transition(
                r.id,
                r.state,
                MessageState.PLANNED,
                "reaper",
                {"reason": "lease expired during the send: a letter is produced again"},
                _back_to_planned(),
            )
            for r in rerun
        ]
        + [
            Transition(
                i,
                MessageState.SENDING,
                MessageState.UNKNOWN,
                "reaper",
                {"reason": "lease expired during the send: it may or may not have gone out"},
                {"lease_expires_at": None, "error_message": "outcome unknown (worker lost)"},
            )
            for i in unknown
        ]
    )
    apply(session, transitions, now, only_from=LEASED_STATES)
    return len(unsent) + len(rerun), len(unknown)
