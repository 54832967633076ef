"""Ops' campaign dashboard charts outcomes per day; ops pause campaigns and enroll accounts."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from outreach.db.casework import AuditEvent
from outreach.db.models import Account, CampaignRow, Enrollment
from outreach.runtime import Runtime
from tests.console_helpers import add_messages
from tests.factories import add_debtor

BLOCKED = {
    "state": "blocked",
    "rules": ["F6"],
    "reasons": ["The consumer asked us in writing to stop communicating."],
}


def test_the_campaign_dashboard_charts_outcomes_and_ops_steer_campaigns(
    console: tuple[Runtime, TestClient, str],
) -> None:
    runtime, client, csrf = console
    now = runtime.clock.now()
    debtor, account = add_debtor(runtime.factory, now)
    add_messages(
        runtime, debtor, account, [{}, {}, BLOCKED, {"channel": "email", "state": "failed"}]
    )
    page = client.get("/console/campaigns").text
    assert page.count('<svg class="chart"') == 2  # standard: sms and email; hardship: none
    assert f"<title>{now.date().isoformat()}: 2 sent</title>" in page
    assert "Totals: sent 2 · delivered 0 · deferred 0 · blocked 1 · failed 1" in page
    assert "F6</abbr> Consumer asked to cease communication</a>: 1" in page

    assert (
        client.post("/console/campaigns/standard/pause", data={"csrf_token": csrf}).status_code
        == 200
    )
    ok = client.post(
        "/console/campaigns/hardship/enroll", data={"csrf_token": csrf, "account": "A" + "x"}
    )
    assert ok.status_code == 400 and "no account &#39;Ax&#39;" in ok.text
    with runtime.factory() as session:
        external = session.get(Account, account).external_id  # type: ignore[union-attr]
    enrolled = client.post(
        "/console/campaigns/hardship/enroll", data={"csrf_token": csrf, "account": external}
    )
    assert enrolled.status_code == 200
    again = client.post(
        "/console/campaigns/hardship/enroll", data={"csrf_token": csrf, "account": external}
    )
    assert again.status_code == 400 and "already in campaign hardship" in again.text
    assert (
        client.post("/console/campaigns/nope/pause", data={"csrf_token": csrf}).status_code == 404
    )
    with runtime.factory() as session:
        statuses = dict(session.execute(select(CampaignRow.name, CampaignRow.status)).all())
        enrollment = session.scalars(select(Enrollment)).one()
        actions = list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.action.like("campaign.%"))
                .order_by(AuditEvent.id)
            )
        )
    assert statuses == {"standard": "paused", "hardship": "active"}
    assert enrollment.account_id == account and enrollment.next_due_at == now
    assert actions == ["campaign.paused", "campaign.enrolled"]
