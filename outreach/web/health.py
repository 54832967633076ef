"""What an orchestrator and Prometheus ask the server: /healthz (the process answers; no
database, so a slow database never gets a live process restarted), /readyz (the database
answers and, where this process runs the scheduler, its jobs are ticking) and /metrics.

/readyz answers 200 or 503 with a reason, never 500: a probe must tell "not ready" from a bug.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client.exposition import choose_encoder

from outreach.pipeline.scheduler import OutreachScheduler
from outreach.queries.health import database_answers, database_error
from outreach.runtime import Runtime
from outreach.web.metrics import metrics_registry

log = logging.getLogger(__name__)

# /readyz fails when no scheduler job finished within this many dispatcher intervals.
TICK_INTERVALS = 3
MIN_DISPATCHER_SECONDS = 5.0


def health_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(tags=["health"])
    registry = metrics_registry(runtime.factory, runtime.clock)

    @router.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", response_model=None)
    def readyz(request: Request) -> JSONResponse:
        reason = not_ready_because(runtime, getattr(request.app.state, "scheduler", None))
        if reason is None:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "not ready", "reason": reason}, status_code=503)

    @router.get("/metrics", include_in_schema=False)  # Prometheus text, not JSON
    def metrics(request: Request) -> Response:
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(registry), media_type=content_type)

    return router


def not_ready_because(runtime: Runtime, scheduler: object) -> str | None:
    """None when ready; else why not, in one line."""
    try:
        with runtime.factory() as session:
            database_answers(session)
    except Exception as exc:  # any driver or network error means "not ready", never a 500
        reason = f"the database did not answer SELECT 1: {database_error(exc)}"
        log.warning("readyz: %s", reason)
        return reason
    if isinstance(scheduler, OutreachScheduler):
        seconds = TICK_INTERVALS * max(scheduler.dispatcher_seconds, MIN_DISPATCHER_SECONDS)
        if not scheduler.ticked_within(seconds):
            if scheduler.last_tick_at is None:
                return "the scheduler has not finished a job run yet"
            return f"the scheduler finished no job run in the last {seconds:g}s"
    return None
