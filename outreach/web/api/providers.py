"""GET /api/providers: each provider's circuit breaker and each worker's heartbeat, the same
object `outreach providers --json` prints (any signed-in role may read it)."""

from __future__ import annotations

from fastapi import APIRouter

from outreach.queries import providers as read
from outreach.web.api.models import ERRORS, ProviderOut, ProvidersOut, WorkerOut
from outreach.web.deps import ApiAgent, DbSession, RuntimeDep

router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)


@router.get("/providers")
def list_providers(principal: ApiAgent, session: DbSession, runtime: RuntimeDep) -> ProvidersOut:
    """Breakers by provider key (last error masked, recent transitions newest first); workers
    alive first, then the latest stopped or lost."""
    now = runtime.clock.now()
    return ProvidersOut(
        providers=[
            ProviderOut.model_validate(p, from_attributes=True)
            for p in read.providers(session, now)
        ],
        workers=[
            WorkerOut.model_validate(w, from_attributes=True) for w in read.workers(session, now)
        ],
    )
