"""Signed links put in messages: one-click unsubscribe, payment, dispute.

Tokens are signed with OUTREACH_SECRET_KEY (itsdangerous), so a link cannot be forged to
opt out or look at someone else's account; payment links expire.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from itsdangerous import BadSignature, URLSafeTimedSerializer

from outreach.vocabulary import ID_MAX


@lru_cache(maxsize=32)
def _serializer(secret_key: str, purpose: str) -> URLSafeTimedSerializer:
    """One serializer per key and purpose (a message signs three links)."""
    return URLSafeTimedSerializer(secret_key, salt=f"outreach.{purpose}")


@dataclass(frozen=True)
class LinkBuilder:
    base_url: str
    secret_key: str

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        return _serializer(self.secret_key, purpose)

    def unsubscribe(self, contact_point_id: int, message_id: int) -> str:
        token = self._serializer("unsubscribe").dumps({"cp": contact_point_id, "m": message_id})
        return f"{self.base_url}/u/{token}"

    def pay(self, account_id: int) -> str:
        token = self._serializer("pay").dumps({"a": account_id})
        return f"{self.base_url}/pay/{token}"

    def dispute(self, account_id: int) -> str:
        token = self._serializer("dispute").dumps({"a": account_id})
        return f"{self.base_url}/dispute/{token}"

    def status_callback(self) -> str:
        return f"{self.base_url}/webhooks/twilio/status"

    def read(self, purpose: str, token: str, max_age: int | None = None) -> dict[str, int]:
        """Decode a token; raises itsdangerous.BadSignature (or SignatureExpired). A signed
        payload that is not ids the database can hold is refused the same way: with a key
        anyone may know (the sandbox's), a link to id 10**20 would otherwise reach the query."""
        data = self._serializer(purpose).loads(token, max_age=max_age)
        if not (
            isinstance(data, dict)
            and all(
                isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= ID_MAX
                for v in data.values()
            )
        ):
            raise BadSignature("the link's payload is not ids")
        return data
