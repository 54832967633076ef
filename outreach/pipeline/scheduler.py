"""APScheduler 3 AsyncIOScheduler jobs that drive the planner and the dispatcher.

coalesce=True and max_instances=1: a slow tick is never run twice at once, and missed runs
collapse into one. On shutdown, running jobs finish (the dispatcher records what it sent).
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
from outreach.pipeline import planner
from outreach.pipeline.dispatcher import Dispatcher

log = logging.getLogger(__name__)


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
        self.scheduler = AsyncIOScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30}
        )
        first = datetime.now(UTC)  # scheduling runs on wall time; "now" for rules comes from clock
        self.scheduler.add_job(
            self.plan, "interval", seconds=planner_seconds, id="planner", next_run_time=first
        )
        self.scheduler.add_job(
            self.dispatch,
            "interval",
            seconds=dispatcher_seconds,
            id="dispatcher",
            next_run_time=first,
        )

    def ticked_within(self, seconds: float) -> bool:
        """Whether a job run finished in the last `seconds` (what /readyz asks)."""
        return self.last_tick_at is not None and time.monotonic() - self.last_tick_at <= seconds

    async def plan(self) -> None:
        report = await asyncio.to_thread(planner.tick, self.factory, self.campaigns, self.clock)
        if report.enrolled or report.planned:
            log.info("planner: enrolled %d, planned %d", report.enrolled, report.planned)
        self.last_tick_at = time.monotonic()

    async def dispatch(self) -> None:
        report = await self.dispatcher.run_until_idle(max_batches=50)
        if report.claimed:
            log.info("dispatcher: %d claimed, %s", report.claimed, dict(report.outcomes))
        self.last_tick_at = time.monotonic()

    def every(self, seconds: float, job: Callable[[], Awaitable[None]], job_id: str) -> None:
        """One more periodic job with the same guarantees (e.g. reading bounces)."""
        self.scheduler.add_job(
            job, "interval", seconds=seconds, id=job_id, next_run_time=datetime.now(UTC)
        )

    def start(self) -> None:
        """Start inside the running event loop; both jobs run once right away."""
        self.scheduler.start()

    def shutdown(self) -> None:
        self.scheduler.shutdown(wait=True)
