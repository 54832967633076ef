"""The sandbox's HTTP face: the Twilio stand-in under `/sandbox/twilio` and, next to it, the
faults admin under `/sandbox/faults`, so an operator (or a test driving workers in other
processes) can make the stand-ins fail without touching the process that runs them.

    POST   /sandbox/faults/twilio/fail-next   {"n": 3, "status": 429, "retry_after": 2}
    POST   /sandbox/faults/twilio/storm       {"seconds": 30, "status": 500}
    POST   /sandbox/faults/twilio/delay-next  {"n": 1, "seconds": 20}
    POST   /sandbox/faults/smtp/fail-next     {"n": 2, "code": 451}
    POST   /sandbox/faults/smtp/storm         {"seconds": 30, "code": 421}
    POST   /sandbox/faults/smtp/delay-next    {"n": 1, "seconds": 40}
    GET    /sandbox/faults                    pending faults, storms, accepted / refused counts
    DELETE /sandbox/faults[/twilio|/smtp]     drop what is pending

Each POST answers the target's new state. Unauthenticated, like the stand-ins themselves: it
is mounted only where the stand-ins run (sandbox mode, `outreach sandbox`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from outreach.sandbox.faults import FaultInjector
from outreach.sandbox.smtp_catcher import smtp_fault
from outreach.sandbox.twilio_api import TwilioSandboxStore, twilio_fault, twilio_sandbox_router

SANDBOX_TWILIO_PREFIX = "/sandbox/twilio"
FAULTS_PREFIX = "/sandbox/faults"
TARGETS = ("twilio", "smtp")

Count = Annotated[int, Field(ge=1, le=100_000)]
Seconds = Annotated[float, Field(gt=0, le=86_400)]
RetryAfter = Annotated[float | None, Field(default=None, ge=0, le=86_400)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TwilioFailNext(_Body):
    n: Count = 1
    status: Annotated[int, Field(ge=400, le=599)] = 503
    code: int | None = None  # Twilio's error code; default: the status
    message: str = ""
    retry_after: RetryAfter = None  # seconds, sent as a Retry-After header


class TwilioStorm(_Body):
    seconds: Seconds
    status: Annotated[int, Field(ge=400, le=599)] = 500
    code: int | None = None
    message: str = ""
    retry_after: RetryAfter = None


class SmtpFailNext(_Body):
    n: Count = 1
    code: Annotated[int, Field(ge=400, le=599)] = 451  # the SMTP reply to DATA
    message: str = ""  # default: an enhanced status code and a short text


class SmtpStorm(_Body):
    seconds: Seconds
    code: Annotated[int, Field(ge=400, le=599)] = 451
    message: str = ""


class DelayNext(_Body):
    n: Count = 1
    seconds: Annotated[float, Field(gt=0, le=3_600)]


def faults_router(targets: dict[str, FaultInjector]) -> APIRouter:
    """The admin over the stand-ins running here (`twilio`, `smtp`); others answer 404."""
    router = APIRouter(prefix=FAULTS_PREFIX, tags=["sandbox"])

    def target(name: str) -> FaultInjector:
        if name not in targets:
            raise HTTPException(404, f"no {name} stand-in runs here")
        return targets[name]

    @router.get("")
    def state() -> dict[str, Any]:
        return {name: faults.state() for name, faults in targets.items()}

    @router.delete("")
    def clear_all() -> dict[str, Any]:
        for faults in targets.values():
            faults.clear()
        return state()

    @router.delete("/{name}")
    def clear(name: str) -> dict[str, Any]:
        faults = target(name)
        faults.clear()
        return faults.state()

    @router.get("/{name}")
    def target_state(name: str) -> dict[str, Any]:
        return target(name).state()

    @router.post("/twilio/fail-next")
    def twilio_fail_next(body: TwilioFailNext) -> dict[str, Any]:
        faults = target("twilio")
        faults.fail_next(
            body.n, twilio_fault(body.status, body.code, body.message, body.retry_after)
        )
        return faults.state()

    @router.post("/twilio/storm")
    def twilio_storm(body: TwilioStorm) -> dict[str, Any]:
        faults = target("twilio")
        faults.storm(
            body.seconds, twilio_fault(body.status, body.code, body.message, body.retry_after)
        )
        return faults.state()

    @router.post("/smtp/fail-next")
    def smtp_fail_next(body: SmtpFailNext) -> dict[str, Any]:
        faults = target("smtp")
        faults.fail_next(body.n, smtp_fault(body.code, body.message))
        return faults.state()

    @router.post("/smtp/storm")
    def smtp_storm(body: SmtpStorm) -> dict[str, Any]:
        faults = target("smtp")
        faults.storm(body.seconds, smtp_fault(body.code, body.message))
        return faults.state()

    @router.post("/{name}/delay-next")
    def delay_next(name: str, body: DelayNext) -> dict[str, Any]:
        faults = target(name)
        faults.delay_next(body.n, body.seconds)
        return faults.state()

    return router


def install_sandbox(
    app: FastAPI, twilio: TwilioSandboxStore | None, smtp_faults: FaultInjector | None
) -> None:
    """Mount the Twilio stand-in (when `twilio` is given) and the faults admin over both."""
    targets: dict[str, FaultInjector] = {}
    if twilio is not None:
        app.include_router(twilio_sandbox_router(twilio), prefix=SANDBOX_TWILIO_PREFIX)
        targets["twilio"] = twilio.faults
    if smtp_faults is not None:
        targets["smtp"] = smtp_faults
    app.include_router(faults_router(targets))
