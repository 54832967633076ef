"""One decision per attempt: block on holds, else the earliest instant caps and window allow.

Pure and fast: the dispatcher calls it thousands of times a second with snapshots it has
already loaded, and may pass `zones` it computed once per debtor.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from outreach.compliance import rules
from outreach.compliance.caps import cap_decision
from outreach.compliance.holds import check_holds
from outreach.compliance.policy import Policy, Window
from outreach.compliance.timezones import candidate_zones
from outreach.compliance.types import (
    AccountSnapshot,
    Attempt,
    Contact,
    DebtorSnapshot,
    Decision,
    Verdict,
)
from outreach.compliance.window import earliest_allowed, zone_info

# Caps only free up as time passes and the window is daily, so two rounds settle it;
# the bound only guards against a bug turning into an endless loop.
_MAX_ROUNDS = 8


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

    Holds block, listing every rule that fired. Otherwise `not_before` is the earliest
    instant >= now at which every frequency cap has room and, unless the channel has no
    window (letters by default), local time is inside the window in every candidate zone.
    Windows that never overlap across the zones block (F1/F2): no wait would help.
    `zones` is candidate_zones(debtor) computed once per debtor by the caller; empty or
    None means compute it here.
    """
    if now.tzinfo is None:
        raise ValueError("evaluate needs a timezone-aware now")
    now = now.astimezone(UTC)
    fired = check_holds(attempt, debtor, account, policy)
    if fired:
        return Decision(
            Verdict.BLOCK,
            rules=_unique(rule for rule, _ in fired),
            reasons=tuple(reason for _, reason in fired),
        )

    window = policy.contact_window.for_channel(attempt.channel)
    if window is not None and not zones:
        zones = candidate_zones(debtor)
    considered = zones if window is not None and zones else ()
    fired_rules: list[str] = []
    reasons: list[str] = []
    t = now
    for _ in range(_MAX_ROUNDS):
        moved = False
        release, cap_reasons = cap_decision(
            t, attempt.channel, account.id, history, policy.frequency_caps
        )
        if release is not None and release > t:
            fired_rules.append(rules.FREQUENCY_CAP)
            reasons.extend(cap_reasons)
            t, moved = release, True
        if considered and window is not None:
            try:
                allowed = earliest_allowed(t, considered, window)
            except ValueError as exc:
                rule_ids = (rules.CONTACT_WINDOW, rules.UNCLEAR_LOCATION)
                return Decision(
                    Verdict.BLOCK,
                    rules=rule_ids if len(considered) > 1 else rule_ids[:1],
                    reasons=(_sentence(str(exc)),),
                    zones=considered,
                )
            if allowed > t:
                fired_rules.append(rules.CONTACT_WINDOW)
                reasons.append(_window_reason(now, t, allowed, considered, window))
                if _zones_disagree(t, allowed, considered, window):
                    fired_rules.append(rules.UNCLEAR_LOCATION)
                    reasons.append(_location_reason(considered, window))
                t, moved = allowed, True
        if not moved:
            break
    else:  # pragma: no cover - unreachable while history only ages out
        raise RuntimeError("caps and contact window did not settle")

    if t == now:
        return Decision(Verdict.ALLOW, zones=considered)
    return Decision(
        Verdict.DEFER,
        not_before=t,
        rules=_unique(fired_rules),
        reasons=tuple(dict.fromkeys(reasons)),
        zones=considered,
    )


def _zones_disagree(t: datetime, allowed: datetime, zones: tuple[str, ...], window: Window) -> bool:
    """F2: the deferral is longer than the most lenient single zone would make it."""
    if len(zones) < 2:
        return False
    return allowed > min(earliest_allowed(t, (zone,), window) for zone in zones)


def _window_reason(
    now: datetime, t: datetime, allowed: datetime, zones: tuple[str, ...], window: Window
) -> str:
    span = f"{window.start:%H:%M}-{window.end:%H:%M}"
    outside = [
        f"{local:%H:%M} in {zone}"
        for zone in zones
        if not window.start <= (local := t.astimezone(zone_info(zone))).time() < window.end
    ]
    when = "It is" if t == now else f"At {t:%Y-%m-%d %H:%M} UTC, when the caps allow, it will be"
    return f"{when} {_and(outside)} (window {span}); next allowed {allowed:%Y-%m-%d %H:%M} UTC."


def _location_reason(zones: tuple[str, ...], window: Window) -> str:
    return (
        f"Location unclear: the consumer may be in {_or(zones)}; contact only when it "
        f"is {window.start:%H:%M}-{window.end:%H:%M} in all of them."
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
