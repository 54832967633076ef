"""Email over SMTP with aiosmtplib, through a small pool of reused connections.

Reusing a connection roughly doubles throughput over one connection per message; a few
connections in parallel add more. One attempt per `send`: retries, the relay's shared rate
limit and its breaker belong to the send engine (pipeline.sending). Outcome classification:
- the server answered a command with 4xx, or we could not connect / open the session at all:
  RETRYABLE (the message was certainly not accepted);
- the server answered 5xx to the sender, a recipient or the data: PERMANENT, code and text kept;
- the connection dropped or timed out once DATA had started: UNKNOWN (the server may have
  queued it), never retried.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from email.utils import parseaddr
from typing import Literal

import aiosmtplib
from aiosmtplib.response import SMTPResponse
from aiosmtplib.typing import Default

from outreach.channels.base import OutboundMessage, SendResult, SendStatus
from outreach.channels.mime import Composed, MimeSkeleton
from outreach.masking import mask

log = logging.getLogger(__name__)


class _Connection(aiosmtplib.SMTP):
    """An SMTP client that notes when DATA starts: from then on a failure is ambiguous."""

    data_started = False

    async def data(
        self,
        message: str | bytes,
        /,
        *,
        timeout: float | Literal[Default.token] | None = Default.token,
    ) -> SMTPResponse:
        self.data_started = True
        return await super().data(message, timeout=timeout)


@dataclass(frozen=True, slots=True)
class _ConnectArgs:
    host: str
    port: int
    use_tls: bool
    start_tls: bool | None
    username: str | None
    password: str | None
    timeout: float

    def client(self) -> _Connection:
        return _Connection(
            hostname=self.host,
            port=self.port,
            use_tls=self.use_tls,
            start_tls=self.start_tls,
            username=self.username,
            password=self.password,
            timeout=self.timeout,
        )


def _response_error(code: int, text: str) -> SendResult:
    status = SendStatus.RETRYABLE if 400 <= code < 500 else SendStatus.PERMANENT
    return SendResult(status, error_code=str(code), error_message=text)


class SmtpEmailChannel:
    """Sends one email per `send`; connections are opened lazily and kept for reuse."""

    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        from_address: str,
        reply_to: str | None = None,
        bounce_address: str | None = None,
        use_tls: bool = False,
        start_tls: bool | None = None,
        username: str | None = None,
        password: str | None = None,
        pool_size: int = 8,
        timeout: float = 30.0,
    ) -> None:
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        self._skeleton = MimeSkeleton(from_address, reply_to)  # ValueError if unusable
        self.from_address = from_address
        self.reply_to = reply_to
        # The envelope sender (Return-Path): where delivery status notifications go.
        self._sender = bounce_address or parseaddr(from_address)[1]
        self._connect_args = _ConnectArgs(
            host, port, use_tls, start_tls, username, password, timeout
        )
        # LIFO: the most recently used (still warm) connection goes out first.
        self._idle: asyncio.LifoQueue[_Connection] = asyncio.LifoQueue()
        self._connections = [self._connect_args.client() for _ in range(pool_size)]
        for conn in self._connections:
            self._idle.put_nowait(conn)

    def build(self, message: OutboundMessage) -> Composed:
        """The message's MIME bytes: text, plus an HTML alternative when there is one."""
        return self._skeleton.compose(
            to=message.to,
            subject=message.subject or "",
            text=message.text,
            html=message.html,
            outreach_id=message.message_id,
            unsubscribe_url=message.unsubscribe_url,
        )

    def prepare(self, message: OutboundMessage) -> OutboundMessage:
        """The MIME bytes built ahead (in the check stage's thread; Date is then the check
        time, at most `ready_seconds` before the send)."""
        try:
            return replace(message, wire=self.build(message))
        except ValueError:
            return message  # `send` builds it again and answers PERMANENT with the reason

    async def send(self, message: OutboundMessage) -> SendResult:
        composed = message.wire
        if not isinstance(composed, Composed):
            try:
                composed = self.build(message)
            except ValueError as exc:  # e.g. a line break in an address or the subject
                return SendResult(
                    SendStatus.PERMANENT, error_code="invalid", error_message=str(exc)
                )
        result = await self._attempt(composed)
        log.debug(  # the engine logs each outcome at INFO
            "email message=%s to=%s status=%s code=%s",
            message.message_id,
            mask(message.to),
            result.status,
            result.error_code,
        )
        return result

    async def _attempt(self, composed: Composed) -> SendResult:
        conn = await self._idle.get()
        try:
            return await self._transact(conn, composed)
        except BaseException:
            conn.close()  # cancelled mid-conversation: the session state is unknown
            raise
        finally:
            self._idle.put_nowait(conn)

    async def _transact(self, conn: _Connection, composed: Composed) -> SendResult:
        if not conn.is_connected:
            try:
                await conn.connect()
            except (aiosmtplib.SMTPException, OSError) as exc:
                # Connect, EHLO, STARTTLS or AUTH failed: nothing about this message was sent.
                conn.close()
                code = getattr(exc, "code", None)
                return SendResult(
                    SendStatus.RETRYABLE,
                    error_code=str(code) if code else type(exc).__name__,
                    error_message=str(exc),
                )
        conn.data_started = False
        try:
            # One deadline for the whole transaction rather than aiosmtplib's one per command
            # (a wait_for each: a fifth of the client's cost per message).
            async with asyncio.timeout(self._connect_args.timeout):
                await conn.sendmail(
                    self._sender,
                    [composed.recipient],
                    composed.data,
                    mail_options=["SMTPUTF8"] if composed.utf8 else None,
                    timeout=None,
                )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0]
            return _response_error(refused.code, refused.message)
        except aiosmtplib.SMTPResponseException as exc:
            # The server answered (and aiosmtplib sent RSET): the session is still usable.
            return _response_error(exc.code, exc.message)
        except (aiosmtplib.SMTPNotSupported, ValueError) as exc:
            # An address this server cannot take (e.g. non-ASCII without SMTPUTF8).
            return SendResult(SendStatus.PERMANENT, error_code="invalid", error_message=str(exc))
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            conn.close()
            status = SendStatus.UNKNOWN if conn.data_started else SendStatus.RETRYABLE
            kind = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
            return SendResult(status, error_code=kind, error_message=str(exc) or kind)
        return SendResult.sent(composed.message_id)

    async def aclose(self) -> None:
        for conn in self._connections:
            if conn.is_connected:
                try:
                    await conn.quit()
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    pass
                finally:
                    conn.close()
