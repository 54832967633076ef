"""The web dependencies: every console page and API call checks the role on the server,
and a console form's CSRF token works only with its own session.

The table below lists each endpoint with the least role it needs. It is compared with the
app's own routes, so a new endpoint without a line here fails the suite; then every
endpoint is called anonymously (refused: sign-in redirect or 401) and by each role below
its own (403), and every console POST without its CSRF token (403).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.routing import BaseRoute

from outreach.auth.users import ROLES
from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from tests.console_helpers import add_user, make_app, sign_in, token_for

PUBLIC = {
    ("GET", "/"),
    ("GET", "/console/sign-in"),
    ("POST", "/console/sign-in"),
}
ROLE_OF = {
    ("POST", "/console/sign-out"): "agent",
    ("GET", "/console/log"): "agent",
    ("GET", "/console/log.csv"): "agent",
    ("GET", "/console/messages/{message_id}"): "agent",
    ("GET", "/console/debtors/{debtor_id}"): "agent",
    ("POST", "/console/debtors/{debtor_id}/notes"): "agent",
    ("POST", "/console/debtors/{debtor_id}/calls"): "agent",
    ("POST", "/console/debtors/{debtor_id}/holds"): "agent",
    ("POST", "/console/debtors/{debtor_id}/holds/release"): "agent",
    ("POST", "/console/debtors/{debtor_id}/payments"): "agent",
    ("POST", "/console/debtors/{debtor_id}/promises"): "agent",
    ("POST", "/console/debtors/{debtor_id}/opt-out"): "agent",
    ("GET", "/console/inbox"): "agent",
    ("POST", "/console/inbox/replies/{inbound_id}/handled"): "agent",
    ("POST", "/console/inbox/tasks/{task_id}/done"): "agent",
    ("GET", "/console/campaigns"): "ops",
    ("POST", "/console/campaigns/{name}/pause"): "ops",
    ("POST", "/console/campaigns/{name}/resume"): "ops",
    ("POST", "/console/campaigns/{name}/enroll"): "ops",
    ("GET", "/console/unknown"): "agent",
    ("POST", "/console/unknown/{message_id}/resolve"): "ops",
    ("POST", "/console/unknown/{message_id}/requeue"): "ops",
    ("GET", "/console/providers"): "agent",
    ("GET", "/console/users"): "admin",
    ("POST", "/console/users"): "admin",
    ("POST", "/console/users/{user_id}/disable"): "admin",
    ("POST", "/console/users/{user_id}/tokens"): "admin",
    ("GET", "/api/me"): "agent",
    ("GET", "/api/messages"): "agent",
    ("GET", "/api/messages/{message_id}"): "agent",
    ("GET", "/api/debtors/{debtor_id}"): "agent",
    ("POST", "/api/debtors/{debtor_id}/notes"): "agent",
    ("POST", "/api/debtors/{debtor_id}/calls"): "agent",
    ("POST", "/api/debtors/{debtor_id}/holds"): "agent",
    ("POST", "/api/debtors/{debtor_id}/holds/release"): "agent",
    ("POST", "/api/debtors/{debtor_id}/payments"): "agent",
    ("POST", "/api/debtors/{debtor_id}/promises"): "agent",
    ("POST", "/api/debtors/{debtor_id}/opt-out"): "agent",
    ("GET", "/api/inbox"): "agent",
    ("POST", "/api/inbox/replies/{inbound_id}/handled"): "agent",
    ("POST", "/api/inbox/tasks/{task_id}/done"): "agent",
    ("GET", "/api/campaigns"): "ops",
    ("POST", "/api/campaigns/{name}/pause"): "ops",
    ("POST", "/api/campaigns/{name}/resume"): "ops",
    ("POST", "/api/campaigns/{name}/enroll"): "ops",
    ("GET", "/api/unknown"): "agent",
    ("POST", "/api/unknown/{message_id}/resolve"): "ops",
    ("POST", "/api/unknown/{message_id}/requeue"): "ops",
    ("GET", "/api/providers"): "agent",
    ("GET", "/api/users"): "admin",
    ("POST", "/api/users"): "admin",
    ("POST", "/api/users/{user_id}/disable"): "admin",
    ("POST", "/api/users/{user_id}/tokens"): "admin",
}
SAMPLE = {
    "{debtor_id}": "1",
    "{message_id}": "1",
    "{inbound_id}": "1",
    "{task_id}": "1",
    "{user_id}": "1",
    "{name}": "standard",
}


def _url(path: str) -> str:
    for placeholder, value in SAMPLE.items():
        path = path.replace(placeholder, value)
    return path


def _flat(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """The app's routes, looking inside included routers (newer FastAPI keeps them nested;
    we include ours without an extra prefix, so their paths are complete)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        yield from _flat(inner.routes) if inner is not None else (route,)


def _guarded(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app serves under /, /console and /api."""
    found = set()
    for route in _flat(app.routes):
        if isinstance(route, APIRoute) and (
            route.path == "/" or route.path.startswith(("/console/", "/api/"))
        ):
            found |= {(m, route.path) for m in route.methods - {"HEAD"}}
    return found


def _call(client: TestClient, method: str, path: str, **kwargs: object) -> int:
    response = client.request(method, _url(path), follow_redirects=False, **kwargs)  # type: ignore[arg-type]
    return response.status_code


def test_every_endpoint_is_in_the_role_table(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    _, app = make_app(config, engine, clock)
    served = _guarded(app)
    assert served - PUBLIC - set(ROLE_OF) == set(), "endpoints with no role test"
    assert (set(ROLE_OF) | PUBLIC) - served == set(), "role table names endpoints that are gone"


def test_anonymous_requests_are_refused_everywhere(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    _, app = make_app(config, engine, clock)
    client = TestClient(app)
    wrong = []
    for method, path in ROLE_OF:
        response = client.request(method, _url(path), follow_redirects=False)
        if path.startswith("/api/"):
            ok = response.status_code == 401 and response.headers.get("www-authenticate")
        else:
            ok = response.status_code == 303 and response.headers["location"].startswith(
                "/console/sign-in?next="
            )
        if not ok:
            wrong.append((method, path, response.status_code))
    assert wrong == []
    # A bad token and a session cookie are no way into the API either.
    client.cookies.set("outreach_session", "forged")
    assert client.get("/api/me", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_each_role_is_refused_what_needs_a_higher_one(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    runtime, app = make_app(config, engine, clock)
    wrong = []
    for role in ROLES[:-1]:
        user = add_user(runtime, f"user-{role}", role)
        api = TestClient(app, headers={"Authorization": f"Bearer {token_for(runtime, user)}"})
        console = TestClient(app)
        csrf = sign_in(console, user.name)
        for (method, path), needed in ROLE_OF.items():
            if ROLES.index(needed) <= ROLES.index(role):
                continue
            if path.startswith("/api/"):
                status = _call(api, method, path)
            else:
                data = {"csrf_token": csrf} if method == "POST" else None
                status = _call(console, method, path, data=data)
            if status != 403:
                wrong.append((role, method, path, status))
    assert wrong == []


def test_console_posts_without_the_csrf_token_are_refused(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    runtime, app = make_app(config, engine, clock)
    add_user(runtime, "root", "admin")
    client = TestClient(app)
    sign_in(client, "root")
    wrong = []
    for method, path in ROLE_OF:
        if method != "POST" or not path.startswith("/console/"):
            continue
        for data in ({}, {"csrf_token": "a" * 64}):
            status = _call(client, method, path, data=data)
            if status != 403:
                wrong.append((path, data, status))
    assert wrong == []
    # The sign-in form has its own (double-submit) token.
    fresh = TestClient(app)
    refused = fresh.post("/console/sign-in", data={"name": "root", "password": "x" * 12})
    assert refused.status_code == 403


def test_a_csrf_token_only_works_with_its_own_session(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    runtime, app = make_app(config, engine, clock)
    add_user(runtime, "alice", "agent")
    add_user(runtime, "mallory", "agent")
    alice, mallory = TestClient(app), TestClient(app)
    sign_in(alice, "alice")
    stolen = sign_in(mallory, "mallory")
    assert alice.post("/console/sign-out", data={"csrf_token": stolen}).status_code == 403
