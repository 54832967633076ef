"""FaultInjector: the order faults are served in, storms that end, and the state it reports."""

from __future__ import annotations

from outreach.sandbox.faults import Fault, FaultInjector

REFUSED = Fault(503, 503, "down")
LIMITED = Fault(429, 20429, "Too Many Requests", retry_after=2)
STORMY = Fault(500, 500, "storm")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_pending_failures_are_served_in_order_then_requests_pass() -> None:
    faults = FaultInjector()
    faults.fail_next(2, REFUSED)
    faults.fail_next(1, LIMITED)
    assert [faults.take_fault() for _ in range(4)] == [REFUSED, REFUSED, LIMITED, None]
    assert faults.refused == 3


def test_a_storm_refuses_everything_until_it_ends_then_pending_failures_resume() -> None:
    clock = Clock()
    faults = FaultInjector(monotonic=clock)
    faults.fail_next(1, REFUSED)
    faults.storm(10, STORMY)
    assert [faults.take_fault() for _ in range(3)] == [STORMY] * 3
    assert faults.state()["storm"]["seconds_left"] == 10
    clock.now += 10
    assert faults.take_fault() == REFUSED  # kept through the storm
    assert faults.take_fault() is None
    assert faults.state()["storm"] is None


def test_state_folds_runs_of_one_fault_and_counts_accepted_and_refused() -> None:
    faults = FaultInjector()
    faults.fail_next(3, LIMITED)
    faults.fail_next(1, REFUSED)
    faults.delay_next(2, 1.5)
    faults.take_fault()
    faults.note_accepted()
    state = faults.state()
    assert state["pending_failures"] == [
        {"n": 2, "status": 429, "code": 20429, "message": "Too Many Requests", "retry_after": 2},
        {"n": 1, "status": 503, "code": 503, "message": "down", "retry_after": None},
    ]
    assert state["pending_delays"] == [1.5, 1.5]
    assert (state["accepted"], state["refused"]) == (1, 1)


def test_clear_drops_what_is_pending_but_keeps_the_counts() -> None:
    faults = FaultInjector()
    faults.fail_next(5, REFUSED)
    faults.storm(60, STORMY)
    faults.delay_next(1, 3)
    faults.take_fault()
    faults.clear()
    assert faults.take_fault() is None and faults.take_delay() == 0
    state = faults.state()
    assert state["pending_failures"] == [] and state["storm"] is None
    assert state["refused"] == 1
