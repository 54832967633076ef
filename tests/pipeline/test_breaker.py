"""The circuit breaker's rules: when it opens, how it rests and probes, how it closes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from outreach.pipeline.breaker import BreakerRules, Health, begin_trial, observe, trial_due
from outreach.vocabulary import BreakerState

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
RULES = BreakerRules(consecutive_failures=3, failure_rate=0.5, window=10, min_calls=6)


def _run(results: str, health: Health | None = None) -> Health:
    health = health or Health()
    for r in results:
        health = observe(health, r == "f", "500: boom" if r == "f" else None, NOW, RULES)
    return health


def test_opens_after_consecutive_failures_and_not_before() -> None:
    assert _run("ff").state is BreakerState.CLOSED
    opened = _run("fff")
    assert opened.state is BreakerState.OPEN
    assert opened.retry_at == NOW + timedelta(seconds=RULES.open_seconds)
    assert opened.last_error == "500: boom"


def test_a_success_resets_the_run_of_failures() -> None:
    assert _run("ffsff").state is BreakerState.CLOSED


def test_opens_on_the_failure_rate_over_the_window() -> None:
    # never three in a row, but half of the last six failed (judged when one fails)
    assert _run("sfsfsf").state is BreakerState.OPEN
    assert _run("fsfss").state is BreakerState.CLOSED  # too few calls to judge a rate


def test_rests_then_one_trial_closes_it_on_success() -> None:
    opened = _run("fff")
    assert not trial_due(opened, NOW + timedelta(seconds=RULES.open_seconds - 1))
    later = NOW + timedelta(seconds=RULES.open_seconds)
    assert trial_due(opened, later)
    trial = begin_trial(opened, "w1", later, RULES)
    assert trial.state is BreakerState.HALF_OPEN and trial.trial_owner == "w1"
    assert not trial_due(trial, later)  # one trial at a time
    assert observe(trial, False, None, later, RULES) == Health()


def test_a_failed_trial_rests_twice_as_long_up_to_the_maximum() -> None:
    health = _run("fff")
    rests = []
    for _ in range(8):
        trial = begin_trial(health, "w1", NOW, RULES)
        health = observe(trial, True, "503", NOW, RULES)
        rests.append(health.open_seconds)
    assert rests[:3] == [RULES.open_seconds * 2, RULES.open_seconds * 4, RULES.open_seconds * 8]
    assert max(rests) == RULES.max_open_seconds


def test_an_abandoned_trial_is_given_to_another_worker() -> None:
    trial = begin_trial(_run("fff"), "dead", NOW, RULES)
    assert trial_due(trial, NOW + timedelta(seconds=RULES.trial_seconds))


def test_late_results_while_open_change_nothing_but_the_last_error() -> None:
    opened = _run("fff")
    assert observe(opened, False, None, NOW, RULES) == opened
    assert observe(opened, True, "timeout", NOW, RULES).retry_at == opened.retry_at
