"""`outreach worker` as a real process: it plans and sends what is due, once, and a SIGTERM
drains it (in-flight sends finish, the rest goes back to planned, exit 0)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from outreach.db.models import MessageEvent
from outreach.db.workers import Worker
from tests.cli.conftest import invoke
from tests.conftest import free_port
from tests.worker_harness import FROM, seed, site


async def test_a_worker_sends_each_due_message_once_then_drains_on_sigterm(
    tmp_path: Path, db_url: str
) -> None:
    port = free_port()
    async with site(tmp_path, db_url) as s:
        seed(s.engine, sms=30, email=30)
        await s.start("w1", "--metrics-port", str(port))
        states = await s.settled(60, timeout=60)
        assert states == {"sent": 60}, s.log("w1")
        assert set(s.deliveries().values()) == {1} and len(s.deliveries()) == 60

        # Its metrics port has what the alerts read, the database's gauges included.
        async with httpx.AsyncClient() as client:
            text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
        assert 'outreach_queue_depth{channel="sms"} 0.0' in text
        assert 'outreach_messages_total{channel="email",rule="",state="sent"} 30.0' in text
        assert 'outreach_worker_heartbeat_age_seconds{worker="w1.1"}' in text
        # A second worker on the same port says so, in one line.
        await s.start("w2", "--metrics-port", str(port))
        assert await asyncio.wait_for(s.workers["w2"].wait(), 30) == 1
        assert f"--metrics-port {port}:" in s.log("w2") and "Traceback" not in s.log("w2")

        codes = await s.stop_all(signal.SIGTERM)
        assert codes == {"w1": 0, "w2": 1}, s.log("w1")
        assert "drained in" in s.log("w1")


def _is_postgres(db_url: str) -> bool:
    return db_url.startswith("postgresql")


async def test_kill_9_at_random_points_never_doubles_strands_or_loses_a_message(
    tmp_path: Path, db_url: str
) -> None:
    """SIGKILL at 20 random points (4 workers on PostgreSQL, 1 on SQLite), restarting each
    killed worker: no message reaches a provider twice, `unknown` never delivered stays
    within the sends in flight at each kill, and every message ends settled."""
    workers = 4 if _is_postgres(db_url) else 1
    # A longer soak by hand: OUTREACH_TEST_KILLS=100 pytest -s -k kill_9
    kills_wanted = int(os.environ.get("OUTREACH_TEST_KILLS", "20"))
    rng = random.Random(20261201)
    overrides = {
        "sms": {"max_per_second": 40},
        "email": {"max_per_second": 40},
    }
    async with site(tmp_path, db_url, **overrides) as s:
        s.twilio.delay_next(100_000, seconds=0.03)  # a provider call takes a little while
        seeded = 1200
        seed(s.engine, sms=600, email=600)
        names = [f"w{i}" for i in range(workers)]
        in_flight: list[int] = []  # the victim's `sending` rows just before each kill
        for name in names:
            await s.start(name)
        while s.kills < kills_wanted:
            # One worker restarts in ~1.5 s: wait past that so kills land mid-send too.
            await asyncio.sleep(rng.uniform(0.4, 1.2) if workers > 1 else rng.uniform(2.0, 3.5))
            victim = rng.choice(names)
            in_flight.append(s.sending(victim))
            s.kill(victim)
            await s.workers[victim].wait()
            await s.start(victim)
            if s.states()["sent"] > seeded - 300:  # keep messages flowing until the last kill
                seed(s.engine, sms=200, email=200, first_id=seeded + 1)
                seeded += 400
        states = await s.settled(seeded, timeout=180)
        codes = await s.stop_all(signal.SIGTERM)

        deliveries = s.deliveries()
        messages = s.messages()
        unknown_undelivered = [
            m for m in messages if m.state == "unknown" and deliveries[str(m.id)] == 0
        ]
        print(
            f"\n{workers} worker(s), {len(messages)} messages, {s.kills} kills: "
            f"{dict(states)}; duplicates {sum(1 for n in deliveries.values() if n > 1)}; "
            f"in a channel call at the kills {sum(in_flight)} (max {max(in_flight)}); "
            f"unknown never delivered {len(unknown_undelivered)} "
            f"({len(unknown_undelivered) / s.kills:.2f} per kill)"
        )
        assert max(deliveries.values()) == 1  # never twice
        assert not [k for k in deliveries if k.startswith("?")]  # nothing we did not plan
        assert set(states) <= {"sent", "unknown"}  # nothing stuck, nothing failed
        assert all(deliveries[str(m.id)] == 1 for m in messages if m.state == "sent")
        # At most what was in a channel call (the count is read just before each kill, so a
        # send may start in between: one per lane of slack), and never more than the lanes.
        assert len(unknown_undelivered) <= sum(in_flight) + s.kills
        assert max(in_flight) <= 4 + 4  # [scheduler] concurrency: sms + email
        assert set(codes.values()) == {0}


async def test_sigterm_mid_batch_drains_with_no_unknown(tmp_path: Path, db_url: str) -> None:
    """Five SIGTERMs while sends are in flight: each drain lets them finish, puts the rest
    back to planned and exits 0; nothing ends unknown and nothing is sent twice."""
    overrides = {"scheduler": {"concurrency": {"sms": 4, "email": 4, "letter": 1}}}
    async with site(tmp_path, db_url, **overrides) as s:
        s.twilio.delay_next(100_000, seconds=0.25)  # slow enough to be caught mid-send
        seed(s.engine, sms=120, email=0)
        drains: list[float] = []
        for round_ in range(5):
            name = f"t{round_}"
            await s.start(name)
            before = s.states()["sent"]
            await s.wait_for(lambda b=before: s.states()["sent"] >= b + 4, timeout=30)
            began = time.monotonic()
            s.workers[name].send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(s.workers[name].wait(), 20) == 0, s.log(name)
            drains.append(time.monotonic() - began)
            states = s.states()
            assert states["unknown"] == 0
            assert not any(states[x] for x in ("claimed", "ready", "sending")), states
        deliveries = s.deliveries()
        for m in s.messages():
            assert deliveries[str(m.id)] == (1 if m.state == "sent" else 0), m
            assert m.state in ("sent", "planned")
        print(f"\ndrain seconds per SIGTERM: {[round(d, 2) for d in drains]}")
        assert max(drains) < 5 + 3  # the grace period plus the process's own exit


async def test_three_workers_share_one_senders_rate_limit(tmp_path: Path, db_url: str) -> None:
    """`max_per_second = 10` is the sender's, not each process's: three workers together
    send 10 SMS a second (within 10%)."""
    overrides = {"sms": {"max_per_second": 10}}
    async with site(tmp_path, db_url, **overrides) as s:
        seed(s.engine, sms=120, email=0)
        for name in ("r0", "r1", "r2"):
            await s.start(name)
        await s.settled(120, timeout=60)
        assert await s.stop_all() == {"r0": 0, "r1": 0, "r2": 0}
        received = sorted(datetime.fromisoformat(r["received"]) for r in s.twilio.requests)
        # Steady state: leave out the first second, while workers start at different times.
        steady = [t for t in received if t >= received[0] + timedelta(seconds=1)]
        rate = (len(steady) - 1) / (steady[-1] - steady[0]).total_seconds()
        senders = {r["form"]["From"] for r in s.twilio.requests}
        workers = {m.lease_owner for m in s.messages()}
        print(f"\n3 workers, one sender at 10/s: {rate:.2f} SMS/s over {len(steady)} sends")
        assert len(received) == 120 and senders == {FROM}
        assert 9.0 <= rate <= 11.0
        assert workers == {None}  # leases released after sending
        assert len({w for w in s.sent_by()}) == 3  # every worker took part


async def test_a_500_storm_opens_the_breaker_and_everything_else_is_sent_once_after(
    tmp_path: Path, db_url: str
) -> None:
    """Six seconds of Twilio 500s (each one may have been accepted: unknown, never resent).
    The shared breaker opens after its threshold, so only a handful of messages meet the
    storm; trials probe it, and once it closes every other message goes out once."""
    threshold, concurrency, workers = 5, 4, 2
    overrides = {
        "sms": {"max_per_second": 50},
        "breaker": {"consecutive_failures": threshold, "open_seconds": 1, "max_open_seconds": 2},
        "scheduler": {"concurrency": {"sms": concurrency, "email": 4, "letter": 1}},
    }
    async with site(tmp_path, db_url, **overrides) as s:
        for i in range(workers):
            await s.start(f"s{i}")
        # The storm starts once both are up (a loaded machine can take seconds to start one).
        await s.wait_for(lambda: len(_running(s)) == workers, timeout=60)
        await s.fault("twilio/storm", seconds=6, status=500, code=500)
        began = time.monotonic()
        seed(s.engine, sms=200, email=0)
        states = await s.settled(200, timeout=90)
        elapsed = time.monotonic() - began
        assert await s.stop_all() == {f"s{i}": 0 for i in range(workers)}

        refused = s.twilio.faults.refused
        trials = len(s.audit("breaker_half_open"))
        opened = s.audit("breaker_open")
        deliveries = s.deliveries()
        print(
            f"\n500 storm of 6 s, {workers} workers: {refused} requests met it, {dict(states)}, "
            f"breaker opened {len(opened)}x, {trials} trials, all settled in {elapsed:.1f}s"
        )
        assert opened and s.audit("breaker_closed")  # it opened, and closed after the storm
        # What met the storm: the threshold, the sends already in flight when it opened,
        # and one trial per rest period.
        assert refused <= threshold + concurrency * workers + trials
        assert states["unknown"] == refused  # a 500 may follow acceptance: never resent
        assert set(states) <= {"sent", "unknown"}
        assert max(deliveries.values()) == 1
        assert all(deliveries[str(m.id)] == 1 for m in s.messages() if m.state == "sent")


async def test_retry_after_holds_every_worker_off_that_sender(tmp_path: Path, db_url: str) -> None:
    """A 429 with Retry-After: 10 to one worker: no worker sends to that sender for 10 s."""
    overrides = {
        "sms": {"max_per_second": 4},
        "scheduler": {"concurrency": {"sms": 1, "email": 1, "letter": 1}},
    }
    async with site(tmp_path, db_url, **overrides) as s:
        await s.fault("twilio/fail-next", n=1, status=429, code=20429, retry_after=10)
        seed(s.engine, sms=12, email=0)
        for name in ("a", "b"):
            await s.start(name)
        await s.wait_for(lambda: s.twilio.faults.refused == 1, timeout=30)
        refused_at = datetime.now(UTC)
        await s.settled(12, timeout=60)
        assert await s.stop_all() == {"a": 0, "b": 0}
        received = sorted(datetime.fromisoformat(r["received"]) for r in s.twilio.requests)
        after = [t for t in received if t > refused_at - timedelta(seconds=0.2)]
        print(f"\nfirst send after the 429: {(after[0] - refused_at).total_seconds():.2f}s later")
        assert len(received) == 12 and s.states() == {"sent": 12}
        assert after and (after[0] - refused_at).total_seconds() >= 10 - 0.3


def _children(pid: int) -> list[int]:
    """The live child processes of `pid`, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rpartition(")")[2].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.append(int(entry))
    return sorted(found)


def _running(s: Any) -> set[str]:
    """The ids of the workers whose heartbeat says running."""
    with s.engine.connect() as conn:
        return set(conn.scalars(select(Worker.id).where(Worker.state == "running")))


def _senders(s: Any) -> Counter[str]:
    """How many sends each worker id committed (the `sending` events' causes)."""
    with s.engine.connect() as conn:
        rows = conn.execute(
            select(MessageEvent.cause, func.count())
            .where(MessageEvent.to_state == "sending")
            .group_by(MessageEvent.cause)
        )
        return Counter({cause.removeprefix("dispatcher:"): n for cause, n in rows})


async def test_processes_share_the_backlog_restart_a_dead_one_and_drain_together(
    tmp_path: Path, db_url: str
) -> None:
    """`--processes 2`: two worker processes send the backlog between them, each message
    once; one killed with -9 is started again under a new id; SIGTERM to the parent drains
    both and exits 0."""
    overrides = {"sms": {"max_per_second": 50}}  # a few seconds' work: both children take part
    async with site(tmp_path, db_url, **overrides) as s:
        seed(s.engine, sms=150, email=50)
        parent = await s.start("pool", "--processes", "2")
        await s.wait_for(lambda: len(_children(parent.pid)) == 2, timeout=30)
        assert await s.settled(200, timeout=90) == {"sent": 200}, s.log("pool")
        assert len(s.deliveries()) == 200 and set(s.deliveries().values()) == {1}
        assert set(_senders(s)) == {"pool.1-1", "pool.1-2"}, _senders(s)

        victim = _children(parent.pid)[0]
        os.kill(victim, signal.SIGKILL)
        await s.wait_for(lambda: bool(_running(s) & {"pool.1-1-2", "pool.1-2-2"}), timeout=30)
        assert victim not in _children(parent.pid) and len(_children(parent.pid)) == 2
        seed(s.engine, sms=100, email=0, first_id=1001)
        assert await s.settled(300, timeout=90) == {"sent": 300}, s.log("pool")
        assert len(s.deliveries()) == 300 and set(s.deliveries().values()) == {1}

        assert await s.stop_all(signal.SIGTERM) == {"pool": 0}, s.log("pool")
        log = s.log("pool")
        assert "restarting it" in log
        assert log.count("drained in") == 2, log
        assert _children(parent.pid) == []


async def test_processes_once_report_the_sum_of_their_work(tmp_path: Path, db_url: str) -> None:
    """`--processes 2 --once`: both plan and send what is due, once, and one JSON report
    adds up what they did."""
    async with site(tmp_path, db_url) as s:
        seed(s.engine, sms=60, email=60)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "from outreach.cli.main import main; main()",
            "--config-dir",
            str(s.config_dir),
            "worker",
            "--processes",
            "2",
            "--once",
            env=s.env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=s.dir,
        )
        out, err = await asyncio.wait_for(process.communicate(), 120)
        assert process.returncode == 0, err.decode()
        report = json.loads(out)
        assert report["planned"] == 120 and report["claimed"] == 120 and report["sent"] == 120
        assert s.states() == {"sent": 120}
        assert len(s.deliveries()) == 120 and set(s.deliveries().values()) == {1}


def test_processes_refuse_metrics_ports_past_65535(config_dir: Path) -> None:
    """The children's ports (P, P+1, ...) are checked before any starts: one line, exit 2,
    not a child failing on a port the user never typed."""
    assert invoke(config_dir, "migrate")[0] == 0
    code, _, err = invoke(
        config_dir, "worker", "--processes", "2", "--metrics-port", "65535", "--once"
    )
    assert code == 2
    assert "--metrics-port 65535 with --processes 2" in err and "65536" in err
    assert "Traceback" not in err
