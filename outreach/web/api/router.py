"""The API's one router: the routes of every part (each under /api, tagged "api")."""

from __future__ import annotations

from fastapi import APIRouter

from outreach.web.api import campaigns, debtors, inbox, messages, providers, unknowns, users

router = APIRouter()
for part in (users, messages, debtors, inbox, campaigns, unknowns, providers):
    router.include_router(part.router)
