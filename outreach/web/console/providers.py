"""The providers page: each provider's circuit breaker (state, open until, last error, recent
transitions) and each worker's heartbeat; what `outreach providers` prints. Read only: a
breaker closes by itself after a successful trial."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from outreach.queries import providers as read
from outreach.web.console.paths import console_router
from outreach.web.console.templating import page
from outreach.web.deps import ConsoleAgent, DbSession, RuntimeDep

router = console_router()


@router.get("/providers")
def providers_page(
    request: Request, principal: ConsoleAgent, session: DbSession, runtime: RuntimeDep
) -> Response:
    now = runtime.clock.now()
    return page(
        request,
        principal,
        "providers.html",
        title="Providers and workers",
        providers=read.providers(session, now),
        workers=read.workers(session, now),
    )
