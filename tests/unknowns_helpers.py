"""Unknown sends for tests: a message handed to its channel (`sending`) whose outcome was
then lost, moved to `unknown` through the outbox as the reaper does (with its event). Outside
a campaign by default, so the dispatcher checks and sends it again if it is requeued."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from outreach.db import outbox
from outreach.db.models import Message
from outreach.db.outbox import Transition
from outreach.vocabulary import MessageState

LOST = "outcome unknown (worker lost)"


def add_unknown(
    factory: sessionmaker[Session],
    now: datetime,
    debtor_id: int,
    account_id: int | None,
    *,
    channel: str = "sms",
    to: str = "+12125550143",
    provider_id: str | None = None,
    campaign: str | None = None,
    step: str = "followup-1",
    error: str = LOST,
) -> int:
    with factory.begin() as session:
        message = Message(
            debtor_id=debtor_id,
            account_id=account_id,
            campaign=campaign,
            step_id=step,
            channel=channel,
            template="sms/reminder",
            to_address=to,
            body="Hello",
            state=MessageState.SENDING,
            due_at=now,
            sent_at=now,
            attempts=1,
            provider_id=provider_id,
            lease_owner="w1",
            lease_expires_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(message)
        session.flush()
        outbox.apply(
            session,
            [
                Transition(
                    message.id,
                    MessageState.SENDING,
                    MessageState.UNKNOWN,
                    "reaper",
                    {"reason": "lease expired during the send"},
                    {"lease_expires_at": None, "error_message": error},
                )
            ],
            now,
        )
        return message.id
