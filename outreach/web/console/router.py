"""The console's one router: the routes of every page module (each under /console)."""

from __future__ import annotations

from fastapi import APIRouter

from outreach.web.console import (
    campaigns,
    debtor,
    inbox,
    log,
    providers,
    sign_in,
    unknowns,
    users,
)

router = APIRouter()
for part in (sign_in, log, debtor, inbox, campaigns, unknowns, providers, users):
    router.include_router(part.router)
