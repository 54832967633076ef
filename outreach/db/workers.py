"""What the workers share besides the message log: who is alive, each provider's health
(the circuit breaker) and each sender's pacing (the shared rate limit).

All three live in the database every worker already uses, so scaling out needs no new
server on SQLite or PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from outreach.db.types import Base
from outreach.vocabulary import BreakerState


class Worker(Base):
    """One running `outreach worker` (or `serve`): its heartbeat renews its leases."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    channels: Mapped[str] = mapped_column(String(64))  # "sms,email,letter"
    state: Mapped[str] = mapped_column(String(16))  # running | draining | stopped
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None]


class ProviderHealth(Base):
    """The circuit breaker of one provider (`sms:+15005550006`, `email:smtp.host:587`)."""

    __tablename__ = "provider_health"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16), default=BreakerState.CLOSED)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    # The last results, oldest first: "s" success, "f" failure (the rate-based threshold).
    recent: Mapped[str] = mapped_column(String(200), default="")
    opened_at: Mapped[datetime | None]
    retry_at: Mapped[datetime | None]  # open until; then one trial send
    open_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    trial_owner: Mapped[str | None] = mapped_column(String(64))
    trial_expires_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class SendPacing(Base):
    """A sender's next free send slot (epoch seconds): every worker reserves from it."""

    __tablename__ = "send_pacing"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float)
    # Set from a provider's Retry-After: no request for this sender before then.
    blocked_until: Mapped[float] = mapped_column(Float, default=0.0)
