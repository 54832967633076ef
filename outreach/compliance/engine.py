"""One decision per attempt: block on holds (and on content, when given), else the earliest
instant that promises, calls (F8), caps and the contact schedule all allow.

Pure and fast: the dispatcher calls it thousands of times a second with snapshots it has
already loaded, and may pass `zones` it computed once per debtor. Everything derived from the
policy alone (windows and caps per channel and place) is computed once and cached.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from outreach.compliance import rules
from outreach.compliance.calls import call_release
from outreach.compliance.caps import cap_decision
from outreach.compliance.content import check_content, is_first_communication
from outreach.compliance.holds import check_holds
from outreach.compliance.local_dates import day_start
from outreach.compliance.places import places
from outreach.compliance.policy import ChannelRules, Policy
from outreach.compliance.timezones import candidate_zones
from outreach.compliance.types import (
    AccountSnapshot,
    Attempt,
    Contact,
    DebtorSnapshot,
    Decision,
    InconvenientTime,
    Verdict,
)
from outreach.compliance.validation import holiday_name
from outreach.compliance.window import Schedule, earliest_allowed, zone_info

# Caps only free up as time passes and the schedule repeats daily, so two rounds settle it;
# the bound only guards against a bug turning into an endless loop.
_MAX_ROUNDS = 8
PHONE_CHANNELS: frozenset[str] = frozenset({"sms", "call"})
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def evaluate(
    attempt: Attempt,
    debtor: DebtorSnapshot,
    account: AccountSnapshot,
    history: Sequence[Contact],
    policy: Policy,
    now: datetime,
    *,
    zones: tuple[str, ...] | None = None,
) -> Decision:
    """ALLOW, DEFER (with a UTC `not_before`) or BLOCK `attempt` at `now` (tz-aware).

    Holds, and content findings when `attempt.content` is given, block, listing every rule
    that fired. Otherwise `not_before` is the earliest instant >= now that is after an open
    promise's due date (collection kinds), that F8 allows (calls), at which every cap has
    room, and that the contact schedule (window, state windows, holidays, stated
    inconvenient times) allows in every candidate zone. A schedule that never allows
    contact blocks: no wait would help. `zones` is candidate_zones(debtor,
    to=contacted_phone(attempt)) computed once by the caller; empty or None means compute
    it here.
    """
    if now.tzinfo is None:
        raise ValueError("evaluate needs a timezone-aware now")
    now = now.astimezone(UTC)
    where = places(debtor.state, debtor.zip, account.state)
    channel_rules = policy.rules_for(attempt.channel, where)
    response = attempt.kind in policy.responses
    window = None if response else channel_rules.window
    paused = (
        not response
        and account.promise_due_on is not None
        and attempt.kind in policy.promise_pauses
    )
    calls = attempt.channel == "call" and not response
    dated_dispute = (
        "dispute" in account.holds
        and account.disputed_at is not None
        and account.validation_notice_sent_at is not None
    )
    if (window is not None or paused or calls or dated_dispute) and not zones:
        zones = candidate_zones(debtor, to=contacted_phone(attempt))
    fired = check_holds(attempt, debtor, account, policy, where, zones or ())
    content: dict[str, Any] = {}
    if attempt.content is not None:
        first = attempt.first_contact
        checked = check_content(
            attempt.channel,
            attempt.content,
            policy=policy,
            places=where,
            time_barred=account.time_barred,
            first_contact=is_first_communication(history) if first is None else first,
        )
        fired.extend(checked.findings)
        content = {"segments": checked.segments, "encoding": checked.encoding, "text": checked.text}
    if fired:
        return Decision(
            Verdict.BLOCK,
            rules=_unique(rule for rule, _ in fired),
            reasons=tuple(reason for _, reason in fired),
            **content,
        )

    considered = zones if zones and (window is not None or paused or calls) else ()

    fired_rules: list[str] = []
    reasons: list[str] = []
    t = now
    if paused and account.promise_due_on is not None:
        resume = day_start(account.promise_due_on + timedelta(days=1), considered)
        if resume > t:
            t = resume
            fired_rules.append(rules.PROMISE)
            reasons.append(
                f"The consumer promised to pay by {account.promise_due_on:%Y-%m-%d}; reminders "
                f"pause until the next day ({_at(resume)} UTC)."
            )
    if calls:
        release, call_reasons = call_release(now, account.id, history, considered, policy.calls)
        if release is not None and release > t:
            t = release
            fired_rules.append(rules.CALLS)
            reasons.extend(call_reasons)

    schedule = None
    if window is not None:
        blocked = tuple(
            b
            for b in debtor.inconvenient_times
            if b.channel is None or b.channel == attempt.channel
        )
        schedule = _schedule(channel_rules, policy.holidays, blocked)
    capped = bool(history) and not response and attempt.kind not in policy.cap_exempt_kinds
    inside_at: datetime | None = None  # the last t the schedule was checked and allowed
    for _ in range(_MAX_ROUNDS):
        moved = False
        if capped:
            for rule_id, caps in channel_rules.caps:
                release, cap_reasons = cap_decision(t, attempt.channel, account.id, history, caps)
                if release is not None and release > t:
                    fired_rules.append(rule_id)
                    reasons.extend(cap_reasons)
                    t, moved = release, True
        if schedule is not None and t != inside_at:
            try:
                allowed = earliest_allowed(t, considered, schedule)
            except ValueError as exc:
                rule_ids = _never_allowed(t, considered, channel_rules, schedule)
                return Decision(
                    Verdict.BLOCK,
                    rules=rule_ids,
                    reasons=(_sentence(str(exc)),),
                    zones=considered,
                    **content,
                )
            if allowed > t:
                for rule_id, reason in _explain_schedule(
                    now, t, allowed, considered, channel_rules, schedule
                ):
                    fired_rules.append(rule_id)
                    reasons.append(reason)
                # Caps only fill again at a later t with contacts dated after t (none, unless
                # the history holds future-dated ones): then one more round is needed.
                moved = capped and any(_after(c.at, t) for c in history)
                t = allowed
            inside_at = t
        if not moved:
            break
    else:  # pragma: no cover - unreachable while history only ages out
        raise RuntimeError("caps and contact window did not settle")

    if t == now:
        return Decision(Verdict.ALLOW, zones=considered, **content)
    return Decision(
        Verdict.DEFER,
        not_before=t,
        rules=_unique(fired_rules),
        reasons=tuple(dict.fromkeys(reasons)),
        zones=considered,
        **content,
    )


def contacted_phone(attempt: Attempt) -> str | None:
    """The phone being texted or called: evidence of where the consumer is (F2)."""
    return attempt.to if attempt.channel in PHONE_CHANNELS else None


def _after(at: datetime, t: datetime) -> bool:
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)) > t


@lru_cache(maxsize=4096)
def _schedule(
    channel_rules: ChannelRules, holidays: bool, blocked: tuple[InconvenientTime, ...]
) -> Schedule:
    """The schedule for a channel in some places, with the debtor's stated times; cached so
    equal schedules are one object (cheap to hash, and `_candidates` caches hit)."""
    window = channel_rules.narrowed or channel_rules.window
    assert window is not None
    return Schedule(window.start, window.end, holidays, blocked)


@lru_cache(maxsize=4096)
def _layers(channel_rules: ChannelRules, schedule: Schedule) -> tuple[tuple[str, Schedule], ...]:
    """The schedule built up rule by rule, so a deferral names each rule that lengthened it."""
    assert channel_rules.window is not None
    layers = [(rules.CONTACT_WINDOW, Schedule.of(channel_rules.window))]
    narrowed = channel_rules.narrowed
    if narrowed is not None:
        layers.append(("+".join(channel_rules.narrowed_by), Schedule.of(narrowed)))
    if schedule.holidays:
        layers.append((rules.HOLIDAY, Schedule(schedule.start, schedule.end, True)))
    if schedule.blocked:
        layers.append((rules.STATED_INCONVENIENT, schedule))
    return tuple(layers)


def _explain_schedule(
    now: datetime,
    t: datetime,
    allowed: datetime,
    zones: tuple[str, ...],
    channel_rules: ChannelRules,
    schedule: Schedule,
) -> list[tuple[str, str]]:
    """(rule id, reason) for each layer of the schedule that moved `t` later."""
    out: list[tuple[str, str]] = []
    previous = t
    for rule_id, layer in _layers(channel_rules, schedule):
        reached = allowed if layer == schedule else earliest_allowed(t, zones, layer)
        if reached <= previous:
            continue
        if rule_id == rules.CONTACT_WINDOW:
            out.append((rule_id, _window_reason(now, t, reached, zones, layer)))
        elif rule_id == rules.HOLIDAY:
            out.append((rule_id, _holiday_reason(previous, reached, zones)))
        elif rule_id == rules.STATED_INCONVENIENT:
            out.append((rule_id, _stated_reason(schedule.blocked, reached)))
        else:
            for place in rule_id.split("+"):
                out.append(
                    (
                        place,
                        f"{place} rules allow contact only {layer.start:%H:%M}-"
                        f"{layer.end:%H:%M} local time; next allowed {_at(reached)} UTC.",
                    )
                )
        previous = reached
    if _zones_disagree(t, allowed, zones, schedule):
        out.append((rules.UNCLEAR_LOCATION, _location_reason(zones, schedule)))
    return out


def _never_allowed(
    t: datetime, zones: tuple[str, ...], channel_rules: ChannelRules, schedule: Schedule
) -> tuple[str, ...]:
    """Rule ids for a schedule with no allowed time: the first layer that leaves none."""
    for rule_id, layer in _layers(channel_rules, schedule):
        try:
            earliest_allowed(t, zones, layer)
        except ValueError:
            ids = tuple(rule_id.split("+"))
            return (*ids, rules.UNCLEAR_LOCATION) if len(zones) > 1 else ids
    return (rules.STATED_INCONVENIENT,)  # pragma: no cover - the last layer is the schedule


def _zones_disagree(
    t: datetime, allowed: datetime, zones: tuple[str, ...], schedule: Schedule
) -> bool:
    """F2: the deferral is longer than the most lenient single zone would make it."""
    if len(zones) < 2:
        return False
    return allowed > min(earliest_allowed(t, (zone,), schedule) for zone in zones)


def _window_reason(
    now: datetime, t: datetime, allowed: datetime, zones: tuple[str, ...], window: Schedule
) -> str:
    span = f"{window.start:%H:%M}-{window.end:%H:%M}"
    outside = [
        f"{local.hour:02d}:{local.minute:02d} in {zone}"
        for zone in zones
        if not window.start <= (local := t.astimezone(zone_info(zone))).time() < window.end
    ]
    when = "It is" if t == now else f"At {_at(t)} UTC, when the caps allow, it will be"
    if not outside:  # inside now, but the window closes before anything else allows it
        return f"The window is {span} local time; next allowed {_at(allowed)} UTC."
    return f"{when} {_and(outside)} (window {span}); next allowed {_at(allowed)} UTC."


def _holiday_reason(start: datetime, end: datetime, zones: tuple[str, ...]) -> str:
    names: dict[str, None] = {}
    for zone in zones:
        day = start.astimezone(zone_info(zone)).date()
        last = end.astimezone(zone_info(zone)).date()
        while day <= last:
            name = holiday_name(day)
            if name:
                names[f"{name} ({day:%Y-%m-%d})"] = None
            day += timedelta(days=1)
    which = _and(list(names)) if names else "a federal holiday"
    return f"No contact on US federal holidays (policy): {which}; next allowed {_at(end)} UTC."


def _stated_reason(blocked: tuple[InconvenientTime, ...], allowed: datetime) -> str:
    stated = [
        f"{b.start:%H:%M}-{b.end:%H:%M}"
        + (f" on {', '.join(_WEEKDAYS[d] for d in sorted(b.days))}" if b.days is not None else "")
        + (f" by {b.channel}" if b.channel else "")
        for b in blocked
    ]
    return (
        f"The consumer said these times are inconvenient: {'; '.join(stated)}; next allowed "
        f"{_at(allowed)} UTC."
    )


def _location_reason(zones: tuple[str, ...], window: Schedule) -> str:
    return (
        f"Location unclear: the consumer may be in {_or(zones)}; contact only when it "
        f"is {window.start:%H:%M}-{window.end:%H:%M} in all of them."
    )


def _at(instant: datetime) -> str:
    """The "YYYY-MM-DD HH:MM" of a UTC instant (strftime is slow on the hot path)."""
    return (
        f"{instant.year:04d}-{instant.month:02d}-{instant.day:02d} "
        f"{instant.hour:02d}:{instant.minute:02d}"
    )


def _or(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _sentence(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
