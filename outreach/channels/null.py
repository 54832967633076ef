"""A channel that accepts everything and sends nothing: for benchmarks of the pipeline itself."""

from __future__ import annotations

from outreach.channels.base import OutboundMessage, SendResult


class NullChannel:
    """Counts what it is given; no network, no files."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0
        self.bytes = 0

    async def send(self, message: OutboundMessage) -> SendResult:
        self.count += 1
        self.bytes += len(message.text) + len(message.html or "")
        return SendResult.sent(f"null-{self.name}-{message.message_id}")

    async def aclose(self) -> None:
        return None
