"""The providers read model: breakers as the pipeline leaves them (opened by real results
through pipeline.health, with their audited transitions, newest first, a few per provider),
errors masked, and workers' heartbeats alive first with their age."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from outreach.clock import SimulatedClock
from outreach.db.engine import session_factory
from outreach.pipeline.breaker import BreakerRules
from outreach.pipeline.health import Provider, Result, admit, lock, report
from outreach.pipeline.workers import beat
from outreach.queries.health import engine_health
from outreach.queries.providers import age_text, providers, workers

RULES = BreakerRules(consecutive_failures=2)
SMS = Provider("sms:+15005550006", "sms")
EMAIL = Provider("email:smtp.example.test:587", "email")
REFUSED = "Twilio 500 for +12125550143: internal error"


def _fail(factory: sessionmaker[Session], clock: SimulatedClock, worker: str, n: int = 1) -> None:
    with factory.begin() as session:
        report(
            session,
            lock(session, SMS, clock.now()),
            [Result(True, REFUSED)] * n,
            worker,
            clock.now(),
            RULES,
        )


def _trial(factory: sessionmaker[Session], clock: SimulatedClock, worker: str) -> int:
    with factory.begin() as session:
        return admit(session, lock(session, SMS, clock.now()), 10, worker, clock.now(), RULES)


def test_an_open_breaker_shows_its_rest_its_trial_and_its_masked_error(
    engine: Engine, clock: SimulatedClock
) -> None:
    factory = session_factory(engine)
    with factory() as session:
        assert providers(session, clock.now()) == []
    with factory.begin() as session:
        report(
            session, lock(session, EMAIL, clock.now()), [Result(False)], "w1", clock.now(), RULES
        )
    opened = clock.now()
    _fail(factory, clock, "w1", 2)

    with factory() as session:
        email, sms = providers(session, clock.now())  # by key
    assert (email.key, email.state, email.paused, email.retry_at, email.events) == (
        EMAIL.key, "closed", False, None, (),
    )  # fmt: skip
    assert (sms.channel, sms.state, sms.paused, sms.consecutive_failures) == (
        "sms",
        "open",
        True,
        2,
    )
    assert (sms.opened_at, sms.retry_at, sms.open_seconds) == (
        opened, opened + timedelta(seconds=10), 10.0,
    )  # fmt: skip
    assert sms.last_error == "Twilio 500 for ********0143: internal error"
    assert sms.updated_at == opened
    assert [(e.at, e.action, e.actor) for e in sms.events] == [
        (opened, "breaker_open", "worker:w1")
    ]

    clock.advance(timedelta(seconds=11))
    with factory() as session:
        (rested,) = [p for p in providers(session, clock.now()) if p.key == SMS.key]
    assert (rested.state, rested.paused) == ("open", False)  # a trial may start now

    assert _trial(factory, clock, "w2") == 1
    trial_started = clock.now()
    with factory() as session:
        trial = {p.key: p for p in providers(session, clock.now())}[SMS.key]
    assert (trial.state, trial.paused, trial.trial_owner) == ("half_open", True, "w2")
    assert trial.retry_at == trial_started + timedelta(seconds=60)  # the trial is given up then

    clock.advance(timedelta(seconds=2))
    _fail(factory, clock, "w2")  # the trial failed: open again, resting twice as long
    with factory() as session:
        again = {p.key: p for p in providers(session, clock.now())}[SMS.key]
    assert (again.state, again.open_seconds, again.trial_owner) == ("open", 20.0, None)
    assert again.retry_at == clock.now() + timedelta(seconds=20)
    assert [(e.action, e.actor) for e in again.events] == [
        ("breaker_open", "worker:w2"),
        ("breaker_half_open", "worker:w2"),
        ("breaker_open", "worker:w1"),
    ]
    with factory() as session:
        health = engine_health(session, clock.now())  # /metrics reads the same rows
    assert [(b.key, b.state) for b in health.breakers] == [(EMAIL.key, "closed"), (SMS.key, "open")]


def test_events_are_the_newest_few_of_each_provider(engine: Engine, clock: SimulatedClock) -> None:
    factory = session_factory(engine)
    _fail(factory, clock, "w1", 2)
    for _ in range(3):  # trial, fail: half_open, open, three times over
        clock.advance(timedelta(seconds=400))
        assert _trial(factory, clock, "w1") == 1
        _fail(factory, clock, "w1")
    clock.advance(timedelta(seconds=400))
    _trial(factory, clock, "w1")
    with factory.begin() as session:
        report(
            session, lock(session, SMS, clock.now()), [Result(False)], "w1", clock.now(), RULES
        )  # the trial passed
        report(
            session,
            lock(session, EMAIL, clock.now()),
            [Result(True, "refused")] * 2,
            "w3",
            clock.now(),
            RULES,
        )

    with factory() as session:
        by_key = {p.key: p for p in providers(session, clock.now())}
        short = {p.key: p for p in providers(session, clock.now(), events=2)}
        bare = providers(session, clock.now(), events=0)
    sms = by_key[SMS.key]
    assert (sms.state, sms.paused, sms.retry_at, sms.last_error) == ("closed", False, None, None)
    assert [e.action for e in sms.events] == [
        "breaker_closed", "breaker_half_open", "breaker_open", "breaker_half_open", "breaker_open",
    ]  # fmt: skip
    assert [e.at for e in sms.events] == sorted((e.at for e in sms.events), reverse=True)
    assert [e.action for e in short[SMS.key].events] == ["breaker_closed", "breaker_half_open"]
    assert [(e.action, e.actor) for e in by_key[EMAIL.key].events] == [
        ("breaker_open", "worker:w3")
    ]
    assert all(p.events == () for p in bare)


def test_workers_alive_first_with_their_heartbeat_age(
    engine: Engine, clock: SimulatedClock
) -> None:
    factory = session_factory(engine)
    start = clock.now()
    with factory.begin() as session:
        beat(session, "w-old", ["sms"], "running", start)
        beat(session, "w-sms", ["sms"], "running", start)
        beat(session, "w-all", ["sms", "email", "letter"], "running", start)
    clock.advance(timedelta(seconds=30))
    with factory.begin() as session:
        beat(session, "w-old", ["sms"], "stopped", clock.now())
        beat(session, "w-all", ["sms", "email", "letter"], "draining", clock.now())
    clock.advance(timedelta(seconds=12))
    with factory() as session:
        listed = workers(session, clock.now())
        live = workers(session, clock.now(), live_only=True, limit=None)
        one = workers(session, clock.now(), limit=1)
        health = engine_health(session, clock.now())
    assert [(w.id, w.state, w.heartbeat_age_seconds) for w in listed] == [
        ("w-all", "draining", 12.0),
        ("w-sms", "running", 42.0),
        ("w-old", "stopped", 12.0),
    ]
    everything, sms, old = listed
    assert everything.channels == ("sms", "email", "letter") and sms.channels == ("sms",)
    assert (everything.started_at, everything.stopped_at) == (start, None)
    assert old.stopped_at == start + timedelta(seconds=30)
    assert everything.pid > 0 and everything.host
    assert [w.id for w in live] == ["w-all", "w-sms"] and [w.id for w in one] == ["w-all"]
    assert health.heartbeat_age_seconds == {"w-all": 12.0, "w-sms": 42.0}


def test_ages_read_at_a_glance() -> None:
    cases = [
        (0.4, "0s"),
        (59.9, "59s"),
        (61, "1m 1s"),
        (3725, "1h 2m"),
        (3 * 86400 + 7200, "3d 2h"),
    ]
    assert [age_text(seconds) for seconds, _ in cases] == [text for _, text in cases]
