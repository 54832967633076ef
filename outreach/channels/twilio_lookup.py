"""Ask Twilio what became of a message we hold a SID for (GET Messages/{sid}.json), with the
official client built as channels.sms builds it (async, the sandbox's base URL when set).

`fetch` answers the message's status and error code, None when Twilio does not know the
SID (404), and raises `LookupFailed` for anything else (network, timeout, 401, 5xx): the
caller leaves the message as it is and asks again later.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from outreach.channels.sms import twilio_client
from outreach.config.loader import Config


class LookupFailed(Exception):
    """Twilio could not be asked, or did not answer usefully; nothing is known."""


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    sid: str
    status: str  # Twilio's MessageStatus: queued, sent, delivered, undelivered, failed...
    error_code: str | None = None
    error_message: str | None = None


class TwilioLookup:
    """Looks up messages by SID; one aiohttp session, opened on first use in the loop."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        base_url: str | None = None,
        timeout: float = 15.0,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._base_url = base_url
        self._timeout = timeout
        self._http: AsyncTwilioHttpClient | None = None
        self._client: Client | None = None

    def _twilio(self) -> Client:
        if self._client is None:
            self._http = AsyncTwilioHttpClient(timeout=self._timeout)
            self._client = twilio_client(
                self._account_sid, self._auth_token, self._http, self._base_url
            )
        return self._client

    async def fetch(self, sid: str) -> ProviderStatus | None:
        client = self._twilio()
        try:
            # The client leaves aiohttp without a deadline (see channels.sms): set one here.
            async with asyncio.timeout(self._timeout):
                found = await client.messages(sid).fetch_async()
        except TwilioRestException as exc:
            if exc.status == 404:
                return None
            raise LookupFailed(f"Twilio answered {exc.status} ({exc.code})") from exc
        except TwilioServiceException as exc:
            raise LookupFailed(f"Twilio answered {exc.status} ({exc.code})") from exc
        except (aiohttp.ClientError, OSError, TimeoutError, json.JSONDecodeError) as exc:
            kind = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
            raise LookupFailed(f"{kind}: {exc}" if str(exc) else kind) from exc
        if not found.status:
            raise LookupFailed(f"Twilio's answer for {sid} has no status")
        return ProviderStatus(
            sid=sid,
            status=str(found.status),
            error_code=str(found.error_code) if found.error_code is not None else None,
            error_message=found.error_message,
        )

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = None
        self._client = None


def build_lookup(config: Config, *, sms_base_url: str | None = None) -> TwilioLookup:
    """The lookup for the configured account, on the same endpoint as the SMS channel: the
    sandbox's `sms_base_url` in sandbox mode (required there), else `sms.base_url` or Twilio."""
    s = config.file.sms
    if s.mode == "sandbox" and sms_base_url is None:
        raise ValueError("sms sandbox mode needs the sandbox base URL")
    sid, token = config.twilio_credentials
    return TwilioLookup(
        sid,
        token,
        base_url=sms_base_url if s.mode == "sandbox" else s.base_url,
        timeout=s.timeout_seconds,
    )
