"""OpenAPI documents for tests: the served app's own, and one of every route (the console's
too, which the published document leaves out), built on an empty database (a schema depends
on no data)."""

from __future__ import annotations

import copy
import importlib
import pkgutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

import outreach.web.api
import outreach.web.console
from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.engine import make_engine
from outreach.runtime import Runtime
from outreach.web.app import create_app
from outreach.web.public import public_router

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


@contextmanager
def empty_runtime() -> Iterator[Runtime]:
    with tempfile.TemporaryDirectory() as tmp:
        config = Config(CONFIG_DIR).relocate(Path(tmp))
        clock = SimulatedClock(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
        runtime = Runtime(config, clock, engine=make_engine("sqlite://"))
        yield runtime
        runtime.engine.dispose()


def served_schema() -> dict[str, Any]:
    """The document the app publishes at /openapi.json."""
    with empty_runtime() as runtime:
        app = create_app(runtime, self_url="http://127.0.0.1:9", run_worker=False)
        document: dict[str, Any] = app.openapi()
        return document


def every_route_schema(runtime: Runtime) -> dict[str, Any]:
    """The routes of every API and console module, and the public pages, in one document."""
    routers = [public_router(runtime)]
    for package in (outreach.web.api, outreach.web.console):
        for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            router = getattr(importlib.import_module(info.name), "router", None)
            if isinstance(router, APIRouter):
                routers.append(router)
    routes = []
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                shown = copy.copy(route)
                shown.include_in_schema = True
                routes.append(shown)
    return get_openapi(title="every route", version="0", routes=routes)
