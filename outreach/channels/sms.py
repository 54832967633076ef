"""SMS through Twilio's Messages API with the official client (async, aiohttp underneath).

How the outcome is classified, and why:
- `TwilioRestException`: Twilio answered. 21610 is an opt-out (Twilio blocks the number after
  STOP); 429 and 503 mean Twilio refused it for now: RETRYABLE. Other 5xx (500, 502, 504)
  may come after Twilio took the message: UNKNOWN, never resent. Any other 4xx is PERMANENT.
- aiohttp / socket errors and timeouts: whether Twilio may have the message depends on whether
  our request reached the wire. The twilio client does not tell us, so an aiohttp trace hook
  records when the request headers are written. Before that (DNS, connection refused, connect
  timeout) the message was certainly not sent: RETRYABLE. After it (timeout waiting for the
  answer, connection dropped) it may have been: UNKNOWN, never retried.
- One attempt per `send`: retries, pacing (the sender's messages-per-second) and the
  provider's breaker belong to the send engine (pipeline.sending), shared by all workers. A
  429/503's `Retry-After` header (which `TwilioRestException` drops) is read by an aiohttp
  trace hook and handed back in `SendResult.retry_after`.
- `AsyncTwilioHttpClient` ignores its own `timeout` (it hands aiohttp the per-call value, which
  the resource methods leave at None, and aiohttp then never times out), so the deadline is
  enforced here with `asyncio.timeout`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import SimpleNamespace

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from outreach.channels.base import OutboundMessage, SendResult, SendStatus
from outreach.masking import mask

log = logging.getLogger(__name__)

OPTED_OUT_CODE = 21610  # "Attempt to send to unsubscribed recipient"


class _Attempt:
    """Per-attempt progress, set by the aiohttp trace hook in the sending task's context."""

    __slots__ = ("request_written", "retry_after")

    def __init__(self) -> None:
        self.request_written = False
        self.retry_after: float | None = None


_current_attempt: ContextVar[_Attempt | None] = ContextVar("twilio_attempt", default=None)


async def _on_request_headers_sent(
    session: aiohttp.ClientSession,
    ctx: SimpleNamespace,
    params: aiohttp.TraceRequestHeadersSentParams,
) -> None:
    attempt = _current_attempt.get()
    if attempt is not None:
        attempt.request_written = True


async def _on_request_end(
    session: aiohttp.ClientSession,
    ctx: SimpleNamespace,
    params: aiohttp.TraceRequestEndParams,
) -> None:
    attempt = _current_attempt.get()
    if attempt is not None:
        attempt.retry_after = retry_after_seconds(params.response.headers.get("Retry-After"))


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _http_error(
    status: int, code: int | None, message: str, retry_after: float | None = None
) -> SendResult:
    error_code = str(code if code is not None else status)
    if code == OPTED_OUT_CODE:
        return SendResult(
            SendStatus.PERMANENT, error_code=error_code, error_message=message, opted_out=True
        )
    if status in (429, 503):
        return SendResult(
            SendStatus.RETRYABLE,
            error_code=error_code,
            error_message=message,
            retry_after=retry_after,
            rate_limited=status == 429,
        )
    if status >= 500:
        return SendResult(SendStatus.UNKNOWN, error_code=error_code, error_message=message)
    return SendResult(SendStatus.PERMANENT, error_code=error_code, error_message=message)


def _transport_error(exc: BaseException, *, request_written: bool) -> SendResult:
    status = SendStatus.UNKNOWN if request_written else SendStatus.RETRYABLE
    kind = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
    return SendResult(status, error_code=kind, error_message=str(exc) or kind)


class TwilioSmsChannel:
    """Sends one SMS per `send` through Twilio (or the local sandbox when `base_url` is set)."""

    name = "sms"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        base_url: str | None = None,
        timeout: float = 15.0,
    ) -> None:
        if not from_number and not messaging_service_sid:
            raise ValueError("set from_number or messaging_service_sid")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._from_number = from_number
        self._messaging_service_sid = messaging_service_sid
        self._base_url = base_url
        self._timeout = timeout
        self._http: AsyncTwilioHttpClient | None = None
        self._client: Client | None = None

    def _twilio(self) -> Client:
        """The client and its aiohttp session, created on first use inside the running loop."""
        if self._client is None:
            trace = aiohttp.TraceConfig()
            trace.on_request_headers_sent.append(_on_request_headers_sent)
            trace.on_request_end.append(_on_request_end)
            self._http = AsyncTwilioHttpClient(timeout=self._timeout, trace_configs=[trace])
            self._client = twilio_client(
                self._account_sid, self._auth_token, self._http, self._base_url
            )
        return self._client

    async def send(self, message: OutboundMessage) -> SendResult:
        result = await self._attempt(message)
        log.debug(  # the engine logs each outcome at INFO
            "sms message=%s to=%s status=%s sid=%s code=%s",
            message.message_id,
            mask(message.to),
            result.status,
            result.provider_id,
            result.error_code,
        )
        return result

    async def _attempt(self, message: OutboundMessage) -> SendResult:
        client = self._twilio()
        attempt = _Attempt()
        token = _current_attempt.set(attempt)
        try:
            async with asyncio.timeout(self._timeout):
                created = await client.messages.create_async(
                    to=message.to,
                    body=message.text,
                    from_=self._from_number,
                    messaging_service_sid=self._messaging_service_sid,
                    status_callback=message.status_callback,
                )
        except TwilioRestException as exc:
            message_text = _provider_message(exc.msg)
            return _http_error(exc.status, exc.code, message_text, attempt.retry_after)
        except TwilioServiceException as exc:
            return _http_error(exc.status, exc.code, exc.detail or exc.title, attempt.retry_after)
        except (aiohttp.ClientError, OSError, TimeoutError, json.JSONDecodeError) as exc:
            # JSONDecodeError: a 2xx we cannot read; Twilio has the message, we lack its sid.
            return _transport_error(exc, request_written=attempt.request_written)
        finally:
            _current_attempt.reset(token)
        return SendResult.sent(
            str(created.sid),
            segments=str(created.num_segments or ""),
            status=str(created.status or ""),
        )

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = None
        self._client = None


def twilio_client(
    account_sid: str, auth_token: str, http: AsyncTwilioHttpClient, base_url: str | None
) -> Client:
    """The twilio client on `http`, pointed at `base_url` (a Twilio-compatible API or the
    sandbox) when one is given; sending and looking messages up use the same one."""
    client = Client(account_sid, auth_token, http_client=http)
    if base_url:
        client.api.base_url = base_url.rstrip("/")
        # TWILIO_EDGE / TWILIO_REGION in the environment would rewrite the host.
        client.edge = None
        client.region = None
    return client


def _provider_message(msg: str) -> str:
    # The client prefixes Twilio's own message with its context.
    return msg.removeprefix("Unable to create record: ")
