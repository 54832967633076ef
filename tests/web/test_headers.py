"""One set of security headers for the whole app: the debtor's pages and the console are never
framed, cached or sniffed and run no inline style or script (and still look right under that
CSP, in Chromium); the API's PII is never cached; nothing is sniffed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.models import ContactPoint
from outreach.runtime import Runtime
from outreach.sandbox.server import running_server
from outreach.web.app import create_app
from tests.console_helpers import add_user, make_app, token_for
from tests.factories import add_debtor

PAGE = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}
INLINE = re.compile(r"<style|<script|\sstyle=|\son[a-z]+=", re.I)


def public_paths(runtime: Runtime) -> list[str]:
    _, account_id = add_debtor(runtime.factory, runtime.clock.now())
    with runtime.factory() as session:
        point = session.scalars(select(ContactPoint).where(ContactPoint.kind == "email")).first()
    assert point is not None
    links = runtime.links
    return [
        u.removeprefix(links.base_url)
        for u in (links.pay(account_id), links.dispute(account_id), links.unsubscribe(point.id, 1))
    ] + ["/pay/forged.token"]  # the error page too


def assert_page_headers(response: httpx.Response) -> None:
    for name, value in PAGE.items():
        assert response.headers.get(name) == value, (response.url, name)
    csp = response.headers["content-security-policy"]
    assert "style-src 'self'" in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp


async def test_the_debtors_pages_carry_the_page_headers_and_no_inline_style(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """Before: none of these headers on pay, dispute and unsubscribe, and an inline <style>
    their CSP would have blocked."""
    for path in public_paths(runtime):
        page = await client.get(path)
        assert page.status_code in (200, 400), path
        assert_page_headers(page)
        assert not INLINE.search(page.text), path
        assert '<link rel="stylesheet" href="/static/public.css">' in page.text
    css = await client.get("/static/public.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "max-width: 36rem" in css.text
    assert css.headers["x-content-type-options"] == "nosniff"


def test_api_responses_are_never_cached_or_sniffed(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    """Before: a debtor's full phone numbers and addresses (GET /api/debtors/{id}) could be
    kept by any cache on the way."""
    runtime, app = make_app(config, engine, clock)
    debtor_id, _ = add_debtor(runtime.factory, clock.now())
    token = token_for(runtime, add_user(runtime, "alice", "agent"))
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    for path in (f"/api/debtors/{debtor_id}", "/api/debtors/999999"):
        response = client.get(path)
        assert response.status_code in (200, 404)
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"
    assert "+12125550143" in client.get(f"/api/debtors/{debtor_id}").text  # full PII indeed


def test_console_pages_and_their_error_pages_keep_their_headers(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    _, app = make_app(config, engine, clock)
    client = TestClient(app)
    for path in ("/console/sign-in", "/console/no-such-page"):
        response = client.get(path)
        assert response.status_code in (200, 404)
        assert_page_headers(response)


async def test_other_routes_are_not_sniffed_and_keep_their_own_caching(
    client: httpx.AsyncClient,
) -> None:
    health = await client.get("/healthz")
    assert health.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in health.headers
    webhook = await client.post("/webhooks/twilio/sms", data={"Body": "x"})
    assert webhook.status_code == 403 and webhook.headers["x-content-type-options"] == "nosniff"


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(shutil.which(str(CHROMIUM)) is None, reason=f"{CHROMIUM} is missing")
async def test_the_dispute_page_looks_right_under_its_csp_in_chromium(runtime: Runtime) -> None:
    playwright_api = pytest.importorskip("playwright.async_api")
    from tests.web.console.test_browser import ARGS

    _, account_id = add_debtor(runtime.factory, runtime.clock.now())
    path = runtime.links.dispute(account_id).removeprefix(runtime.links.base_url)
    app = create_app(runtime, self_url="http://127.0.0.1:1", run_worker=False)
    async with running_server(app) as base, playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = await browser.new_page()
            refused: list[str] = []
            page.on("console", lambda m: refused.append(m.text) if "Refused" in m.text else None)
            response = await page.goto(base + path)
            assert response is not None and "content-security-policy" in response.headers
            button = page.get_by_role("button", name="Dispute this debt")
            color = await button.evaluate("b => getComputedStyle(b).backgroundColor")
            width = await page.evaluate("getComputedStyle(document.body).maxWidth")
        finally:
            await browser.close()
    assert (color, width) == ("rgb(17, 34, 68)", "576px")  # public.css applied
    assert refused == []  # nothing the CSP blocked
