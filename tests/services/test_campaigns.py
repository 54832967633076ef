"""Campaign services: an unknown campaign is NotFound; pausing twice changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from outreach.config.loader import Config
from outreach.pipeline.planner import sync_campaigns
from outreach.services import campaigns
from outreach.services.contract import Acting, NotFound, Outcome
from outreach.services.inputs import EnrollIn


def test_pause_twice_and_unknown_campaigns(
    factory: sessionmaker[Session], admin: Acting, config: Config
) -> None:
    with factory.begin() as session:
        sync_campaigns(session, config.campaigns, admin.now)
    with factory() as session:
        assert campaigns.set_status(session, admin, "standard", "paused") == Outcome()
        assert not campaigns.set_status(session, admin, "standard", "paused").changed
        with pytest.raises(NotFound, match="no campaign 'nope'"):
            campaigns.set_status(session, admin, "nope", "active")
        with pytest.raises(NotFound, match="no campaign 'nope'"):
            campaigns.enroll(session, admin, config.campaigns, "nope", EnrollIn(account="A1"))
