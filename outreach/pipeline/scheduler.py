"""APScheduler 3 AsyncIOScheduler jobs that drive the planner, the dispatcher and the
periodic readers (bounces, unknown settling), and the order in which they stop.

coalesce=True and max_instances=1: a slow tick is never run twice at once, and missed runs
collapse into one. Stopping is ours, not APScheduler's: its AsyncIOExecutor cancels running
coroutine jobs on shutdown, so `stop` first stops new runs, then drains the dispatcher
(in-flight sends finish within the grace period, the rest goes back to planned), which
waits for a batch the cancelled job was still checking.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.orm import Session, sessionmaker

from outreach.clock import Clock
from outreach.config.campaigns import Campaign
from outreach.metrics import TICK_SECONDS
from outreach.pipeline import planner
from outreach.pipeline.dispatcher import Dispatcher, DrainReport

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class OutreachScheduler:
    def __init__(
        self,
        factory: sessionmaker[Session],
        campaigns: Mapping[str, Campaign],
        dispatcher: Dispatcher,
        clock: Clock,
        *,
        planner_seconds: float = 60,
        dispatcher_seconds: float = 5,
    ) -> None:
        self.factory = factory
        self.campaigns = campaigns
        self.dispatcher = dispatcher
        self.clock = clock
        self.dispatcher_seconds = dispatcher_seconds
        self.last_tick_at: float | None = None  # time.monotonic() of the last finished job run
        self.drained: DrainReport | None = None  # set once stopped
        self.scheduler = AsyncIOScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30}
        )
        self.every(planner_seconds, self.plan, "planner")
        self.every(dispatcher_seconds, self.dispatch, "dispatcher")

    def ticked_within(self, seconds: float) -> bool:
        """Whether a job run finished in the last `seconds` (what /readyz asks)."""
        return self.last_tick_at is not None and time.monotonic() - self.last_tick_at <= seconds

    def _alive(self) -> None:
        self.last_tick_at = time.monotonic()

    async def plan(self) -> None:
        report = await asyncio.to_thread(planner.tick, self.factory, self.campaigns, self.clock)
        if report.enrolled or report.planned:
            log.info("planner: enrolled %d, planned %d", report.enrolled, report.planned)

    async def dispatch(self) -> None:
        report = await self.dispatcher.fill(alive=self._alive)
        if report.claimed:
            outcomes = ", ".join(f"{state}={n}" for state, n in sorted(report.outcomes.items()))
            log.info("dispatcher: %d claimed; checked: %s", report.claimed, outcomes or "none")

    def every(self, seconds: float, job: Job, job_id: str) -> None:
        """A periodic job, timed (metrics, /readyz), first run right away."""

        async def timed() -> None:
            began = time.monotonic()
            try:
                await job()
            except Exception:  # logged, and the next run tries again
                log.exception("job %s failed", job_id)
            finally:
                TICK_SECONDS.labels(job_id).observe(time.monotonic() - began)
                self.last_tick_at = time.monotonic()

        self.scheduler.add_job(
            timed, "interval", seconds=seconds, id=job_id, next_run_time=datetime.now(UTC)
        )

    def start(self) -> None:
        """Start inside the running event loop: lanes and heartbeat, then the jobs."""
        self.dispatcher.start()
        self.scheduler.start()

    async def stop(self, grace: float) -> DrainReport:
        """No new job runs; drain the dispatcher; record everything."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        return await self.dispatcher.drain(grace)
