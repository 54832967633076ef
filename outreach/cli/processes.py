"""`outreach worker --processes N`: N worker processes on one machine, one per core.

A worker's checks and renders are CPU-bound Python, so one process uses one core. The
children are ordinary `outreach worker` processes (the same command line without
`--processes`); they share leases, breakers and rate limits through the database as workers
on different machines do. The parent forwards SIGTERM/SIGINT (each child drains), restarts a
child that dies while it should be running (with a growing pause), and with `--once` merges
the children's JSON reports into one.
"""

from __future__ import annotations

import ctypes
import json
import logging
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from types import FrameType
from typing import Any

log = logging.getLogger("outreach.worker")

PR_SET_PDEATHSIG = 1  # prctl(2)
RESTART_PAUSE = (1.0, 30.0)  # first and longest pause before restarting a crashed child


def child_argv(argv: Sequence[str], index: int, life: int = 1) -> list[str]:
    """The command line of child `index` (1-based) in its `life`-th run: `argv` (the
    interpreter's own, `-m` and all) without `--processes`, with a metrics port of its own
    and, when a worker id was given, an id of its own (ID-INDEX, then ID-INDEX-LIFE: a dead
    life's leases are told apart from its successor's)."""
    out: list[str] = []
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        name, eq, value = arg.partition("=")
        if name not in ("--processes", "--worker-id", "--metrics-port"):
            out.append(arg)
            continue
        if not eq:
            value = rest.pop(0) if rest else ""
        if name == "--worker-id":
            out += ["--worker-id", f"{value}-{index}" + (f"-{life}" if life > 1 else "")]
        elif name == "--metrics-port":
            port = int(value)
            out += ["--metrics-port", str(port + index - 1 if port else 0)]
    return out


def run_once(argv: Sequence[str], n: int) -> tuple[int, dict[str, Any]]:
    """Run N `--once` children side by side; their reports summed (1 if any failed)."""
    children = [_spawn(child_argv(argv, i), stdout=subprocess.PIPE) for i in range(1, n + 1)]
    total: Counter[str] = Counter()
    failed = 0
    for child in children:
        out, _ = child.communicate()
        if child.returncode != 0:
            failed += 1
            continue
        total.update(json.loads(out))
    report: dict[str, Any] = dict(total)
    if failed:
        report["failed_processes"] = failed  # their work is not in the sums above
    return (1 if failed else 0), report


def supervise(argv: Sequence[str], n: int, *, poll_seconds: float = 0.5) -> int:
    """Run N children of `argv` until SIGTERM/SIGINT, then let each drain; 0 if all exited
    0. A child that dies meanwhile is started again (its next life)."""
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    lives = [1] * n
    children = [_spawn(child_argv(argv, i + 1)) for i in range(n)]
    pauses = [RESTART_PAUSE[0]] * n
    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stopping:
            time.sleep(poll_seconds)
            for i, child in enumerate(children):
                code = child.poll()
                if code is None or stopping:
                    continue
                log.error(
                    "worker process %d exited with %s; restarting it in %.0fs",
                    i + 1,
                    code,
                    pauses[i],
                )
                time.sleep(pauses[i])
                pauses[i] = min(pauses[i] * 2, RESTART_PAUSE[1])
                if not stopping:
                    lives[i] += 1
                    children[i] = _spawn(child_argv(argv, i + 1, lives[i]))
                    if stopping:  # the signal came while it was starting: it drains too
                        children[i].send_signal(signal.SIGTERM)
        codes = [child.wait() for child in children]
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 0 if all(c == 0 for c in codes) else 1


def _spawn(argv: list[str], stdout: int | None = None) -> subprocess.Popen[bytes]:
    """A child that gets SIGTERM (and drains) if this parent dies, even by SIGKILL (Linux)."""
    if sys.platform != "linux":
        return subprocess.Popen(argv, stdout=stdout)
    libc = ctypes.CDLL(None)  # resolved before the fork: the child only calls prctl

    def die_with_parent() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    return subprocess.Popen(argv, stdout=stdout, preexec_fn=die_with_parent)


def current_argv() -> list[str]:
    """This process's command line as the interpreter got it (`python -m ...` included)."""
    return list(sys.orig_argv)
