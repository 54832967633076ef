"""The console in a real headless Chromium (Debian's `chromium`, driven by playwright):
sign in, filter the log, open a debtor's timeline, add a note and see it appear. Saves the
README's screenshots of the log and of a timeline to docs/screenshots/."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.models import Hold, InboundMessage
from outreach.pipeline.planner import sync_campaigns
from outreach.runtime import Runtime
from outreach.sandbox.server import running_server
from tests.conftest import ROOT
from tests.console_helpers import PASSWORD, add_messages, add_user, make_app
from tests.factories import add_debtor

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "docs" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

playwright_api = pytest.importorskip(
    "playwright.async_api",
    reason="the playwright package is not installed (pip install playwright)",
)
pytestmark = pytest.mark.skipif(
    shutil.which(str(CHROMIUM)) is None,
    reason=f"{CHROMIUM} is missing: apt-get install -y chromium",
)


def _seed(runtime: Runtime) -> int:
    """A small portfolio whose log shows sends, deferrals and blocks with their reasons."""
    now = runtime.clock.now()
    with runtime.factory.begin() as session:
        sync_campaigns(session, runtime.config.campaigns, now)
    maria, maria_account = add_debtor(runtime.factory, now)
    john, john_account = add_debtor(
        runtime.factory,
        now,
        first="John",
        last="Carter",
        phones=[("+13125550178", "mobile")],
        emails=[("john.carter@example.com", "personal")],
    )
    lee, lee_account = add_debtor(
        runtime.factory,
        now,
        first="Ana",
        last="Lee",
        phones=[("+12085550101", "mobile")],
        emails=[("ana.lee@example.net", "personal")],
    )
    earlier = now - timedelta(days=3)
    add_messages(
        runtime,
        maria,
        maria_account,
        [
            {
                "channel": "letter",
                "template": "letter/validation_notice",
                "to": None,
                "step": "validation-letter",
                "state": "delivered",
            },
            {
                "channel": "email",
                "template": "email/first_reminder",
                "to": "maria@example.com",
                "step": "first-email",
            },
        ],
        at=earlier,
    )
    add_messages(
        runtime,
        john,
        john_account,
        [
            {
                "channel": "sms",
                "to": "+13125550178",
                "step": "first-sms",
                "state": "deferred",
                "rules": ["F1"],
                "reasons": [
                    "It is 07:10 in America/Chicago (window 08:00-21:00); "
                    "next allowed 2026-12-01 14:00 UTC."
                ],
            },
            {
                "channel": "email",
                "template": "email/first_reminder",
                "to": "john.carter@example.com",
                "step": "first-email",
            },
        ],
        at=earlier + timedelta(hours=5),
    )
    add_messages(
        runtime,
        lee,
        lee_account,
        [
            {
                "channel": "sms",
                "to": "+12085550101",
                "step": "first-sms",
                "state": "deferred",
                "rules": ["F1", "F2"],
                "reasons": [
                    "It is 06:30 in America/Boise and 05:30 in America/Los_Angeles"
                    " (window 08:00-21:00).",
                    "Location unclear: contact only when it is 08:00-21:00 in all of them.",
                ],
            },
        ],
        at=now - timedelta(days=1),
    )
    with runtime.factory.begin() as session:
        session.add(
            Hold(
                debtor_id=maria,
                kind="cease",
                reason="letter received 2026-11-30",
                source="agent:sam",
                created_at=now - timedelta(hours=2),
            )
        )
        session.add(
            InboundMessage(
                channel="sms",
                from_address="+12125550143",
                body="Please stop texting me, I sent you a letter",
                debtor_id=maria,
                intent="stop",
                action="opted out of SMS",
                received_at=now - timedelta(hours=3),
            )
        )
    add_messages(
        runtime,
        maria,
        maria_account,
        [
            {
                "channel": "sms",
                "step": "second-sms",
                "state": "blocked",
                "rules": ["F6"],
                "reasons": [
                    "The consumer asked us in writing to stop communicating; only a cease "
                    "acknowledgement or a remedy notice may be sent."
                ],
            },
        ],
        at=now - timedelta(minutes=30),
    )
    return maria


async def test_sign_in_filter_open_a_timeline_and_add_a_note(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    runtime, app = make_app(config, engine, clock)
    add_user(runtime, "sam", "ops")
    maria = _seed(runtime)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with running_server(app) as base, playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1366, "height": 820})
            await page.goto(f"{base}/console/log")
            assert "/console/sign-in" in page.url  # not signed in yet
            await page.get_by_label("User name").fill("sam")
            await page.get_by_label("Password").fill(PASSWORD)
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_url(f"{base}/console/log")
            rows = page.locator("table.log tbody tr")
            assert await rows.count() == 6
            await page.screenshot(path=str(SCREENSHOTS / "log.png"))
            await page.keyboard.press("Tab")  # keyboard users: the first stop skips the menu
            assert await page.evaluate("document.activeElement.textContent") == "Skip to content"

            await page.get_by_label("State").select_option("blocked")
            await page.get_by_role("button", name="Filter").click()
            await page.wait_for_url("**/console/log?*state=blocked*")
            assert await rows.count() == 1
            row_text = await rows.first.inner_text()
            assert "F6" in row_text and "stop communicating" in row_text
            assert "+12125550143" not in row_text  # masked in lists

            await rows.first.get_by_role("link", name="D0").click()
            await page.wait_for_url(f"{base}/console/debtors/{maria}")
            assert await page.get_by_role("heading", name="Timeline").is_visible()
            await page.get_by_label("Note", exact=True).fill(
                "Called back: she will pay $100 on Friday."
            )
            await page.get_by_role("button", name="Add note").click()
            await page.wait_for_url(f"{base}/console/debtors/{maria}#timeline")
            first = page.locator("ol.timeline li").first
            assert "Called back: she will pay $100 on Friday." in await first.inner_text()
            assert "agent:sam" in await first.inner_text()
            await page.screenshot(path=str(SCREENSHOTS / "timeline.png"), full_page=True)
        finally:
            await browser.close()
    for name in ("log.png", "timeline.png"):
        size = (SCREENSHOTS / name).stat().st_size
        assert 10_000 < size < 600_000, (name, size)
