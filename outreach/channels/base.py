"""The Channel protocol: adapters translate one neutral OutboundMessage into a provider call."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable


class SendStatus(StrEnum):
    SENT = "sent"  # the provider accepted it
    RETRYABLE = "retryable"  # certainly not sent (rate limit, provider down before accepting)
    PERMANENT = "permanent"  # will never succeed as is (invalid number, rejected address)
    UNKNOWN = "unknown"  # may or may not have been sent (timeout after the request left)


@dataclass(frozen=True, slots=True)
class PostalAddress:
    name: str
    line1: str
    city: str
    state: str
    zip: str
    line2: str = ""

    @classmethod
    def from_dict(cls, name: str, address: Mapping[str, Any]) -> PostalAddress:
        """From a contact point's stored address (line1, line2, city, state, zip)."""
        return cls(
            name=name,
            line1=address.get("line1", ""),
            line2=address.get("line2") or "",
            city=address.get("city", ""),
            state=address.get("state", ""),
            zip=address.get("zip", ""),
        )

    def lines(self) -> list[str]:
        return [
            self.name,
            self.line1,
            *([self.line2] if self.line2 else []),
            f"{self.city}, {self.state} {self.zip}",
        ]


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A rendered message ready for a channel.

    `to` is an E.164 phone, an email address, or (letters) the recipient's name.
    """

    message_id: int
    channel: str
    to: str
    text: str
    subject: str | None = None
    html: str | None = None
    template: str = ""
    account_ref: str = ""  # masked account number, for manifests
    postal: PostalAddress | None = None
    unsubscribe_url: str | None = None
    status_callback: str | None = None
    # The channel's own wire form of the message (email: its MIME bytes), built by
    # `Prepares.prepare` in the check stage's thread so the event loop only sends it.
    wire: object = None


@dataclass(frozen=True, slots=True)
class SendResult:
    status: SendStatus
    provider_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    # The provider says the recipient opted out (Twilio 21610): record it, never retry.
    opted_out: bool = False
    # RETRYABLE: the provider's Retry-After (seconds): nothing goes to this sender before.
    retry_after: float | None = None
    # RETRYABLE because we sent too fast (429): pacing's business, not a sign of ill health.
    rate_limited: bool = False
    detail: dict[str, str] = field(default_factory=dict)

    @classmethod
    def sent(cls, provider_id: str, **detail: str) -> SendResult:
        return cls(SendStatus.SENT, provider_id=provider_id, detail=detail)


class Channel(Protocol):
    """One provider. `send` never raises for provider errors: it classifies them."""

    name: str

    async def send(self, message: OutboundMessage) -> SendResult: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class Prepares(Protocol):
    """A channel whose messages have a costly wire form, built off the event loop."""

    def prepare(self, message: OutboundMessage) -> OutboundMessage:
        """`message` with its `wire` form; as it was when the form cannot be built (its
        `send` then answers why)."""
        ...


def prepare(channel: Channel, message: OutboundMessage) -> OutboundMessage:
    return channel.prepare(message) if isinstance(channel, Prepares) else message
