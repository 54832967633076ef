"""A local SMTP server that keeps every message in a Maildir: the sandbox's outside mailbox,
which can also refuse or delay messages on request (`faults`).

aiosmtpd's `Controller` runs the server on its own thread and loop. It cannot bind port 0 as
shipped (aio-libs/aiosmtpd#388): after binding it "triggers" the server by connecting to the
port it was given, i.e. port 0. `_Controller` reads the real port from the bound socket first.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import mailbox
import re
import uuid
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session

from outreach.sandbox.faults import Fault, FaultInjector


class _Controller(Controller):
    def _trigger_server(self) -> None:
        sockets = getattr(self.server, "sockets", None)  # an asyncio.Server once bound
        if self.port == 0 and sockets:
            self.port = sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


_KEY = re.compile(r"^(\d+)\.M(\d+)P\d+Q(\d+)")


def _delivery_order(key: str) -> tuple[int, ...]:
    # Maildir names written by Python's mailbox: "<secs>.M<usecs>P<pid>Q<counter>.<host>".
    match = _KEY.match(key)
    return tuple(int(g) for g in match.groups()) if match else (0, 0, 0)


# Magic recipients, like Twilio's magic numbers: mail to these local parts is "delivered" and
# then bounced back to the envelope sender with an RFC 3464 report.
BOUNCE_LOCAL_PARTS: dict[str, tuple[str, str, str]] = {
    "bounce-hard": ("failed", "5.1.1", "smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected"),
    "bounce-soft": ("delayed", "4.2.2", "smtp; 452 4.2.2 <{rcpt}>: Mailbox full"),
}


def build_dsn(
    original: EmailMessage | bytes,
    *,
    to: str,
    recipient: str,
    action: str = "failed",
    status: str = "5.1.1",
    diagnostic: str = "smtp; 550 5.1.1 User unknown",
    reporting_mta: str = "mx.sandbox.test",
) -> EmailMessage:
    """A delivery status notification (RFC 3464) about `original`, as an MTA writes one:
    multipart/report with a human part, message/delivery-status, and the returned headers."""
    if isinstance(original, bytes):
        parsed: Any = email.message_from_bytes(original, policy=email.policy.default)
        original = parsed
    assert isinstance(original, EmailMessage)
    returned = "".join(f"{k}: {v}\r\n" for k, v in original.items() if not k.startswith("X-R"))
    boundary = f"dsn-{uuid.uuid4().hex}"
    raw = (
        f"From: Mail Delivery System <MAILER-DAEMON@{reporting_mta}>\r\n"
        f"To: {to}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: {make_msgid(domain=reporting_mta)}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type="delivery-status"; boundary="{boundary}"\r\n'
        "\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        f"Your message to <{recipient}> could not be delivered ({status}).\r\n"
        f"--{boundary}\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; {reporting_mta}\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\nDiagnostic-Code: {diagnostic}\r\n"
        f"\r\n--{boundary}\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\n"
        f"{returned}"
        f"\r\n--{boundary}--\r\n"
    )
    return email.message_from_bytes(raw.encode("utf-8"), policy=email.policy.default)


def smtp_fault(code: int, message: str = "", retry_after: float | None = None) -> Fault:
    """An injected SMTP reply to DATA: 4xx (try again later) or 5xx (refused)."""
    default = "4.3.0 Injected fault, try again later" if code < 500 else "5.7.1 Injected fault"
    return Fault(code, code, message or default, retry_after)


class _BouncingMailbox(Mailbox):
    """Stores every message; mail to a magic bounce recipient also gets its DSN stored, as
    if delivered back to the envelope sender (the bounce address). An injected fault answers
    the DATA command with its code instead of storing; a delay stores, then answers late."""

    def __init__(self, maildir: Path, faults: FaultInjector) -> None:
        super().__init__(maildir)
        self.faults = faults

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        if (fault := self.faults.take_fault()) is not None:
            return f"{fault.status} {fault.message}"
        message = self.prepare_message(session, envelope)
        self.handle_message(message)
        self.faults.note_accepted()
        sender = envelope.mail_from or ""
        for rcpt in envelope.rcpt_tos:
            magic = BOUNCE_LOCAL_PARTS.get(rcpt.partition("@")[0].lower())
            if magic is None or not sender or sender == "<>":
                continue
            action, status, diagnostic = magic
            dsn: Any = build_dsn(
                envelope.original_content or b"",
                to=sender,
                recipient=rcpt,
                action=action,
                status=status,
                diagnostic=diagnostic.format(rcpt=rcpt),
            )
            dsn["X-MailFrom"] = "<>"
            dsn["X-RcptTo"] = sender
            self.handle_message(dsn)
        if delay := self.faults.take_delay():
            await asyncio.sleep(delay)
        return "250 OK"


class SmtpCatcher:
    """`with SmtpCatcher(dir) as catcher:` listens on `catcher.host:catcher.port`.

    Messages keep aiosmtpd's `X-Peer`, `X-MailFrom` and `X-RcptTo` headers, so tests can see the
    envelope and which client connection delivered each message.
    """

    def __init__(
        self,
        maildir: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        handler: Mailbox | None = None,
        faults: FaultInjector | None = None,
    ) -> None:
        self.maildir = Path(maildir)
        self.maildir.parent.mkdir(parents=True, exist_ok=True)
        self.host = host
        self._requested_port = port
        self.faults = faults if faults is not None else FaultInjector()  # unused by `handler`
        self.handler = (
            handler if handler is not None else _BouncingMailbox(self.maildir, self.faults)
        )
        self._controller: _Controller | None = None

    @property
    def port(self) -> int:
        """The bound port (the one the OS picked when constructed with 0)."""
        if self._controller is None:
            raise RuntimeError("SmtpCatcher is not running")
        port: int = self._controller.port
        return port

    def start(self) -> SmtpCatcher:
        if self._controller is not None:
            raise RuntimeError("SmtpCatcher is already running")
        controller = _Controller(self.handler, hostname=self.host, port=self._requested_port)
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpCatcher:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def messages(self) -> list[EmailMessage]:
        """Every message delivered so far, oldest first."""
        if not self.maildir.exists():
            return []
        box = mailbox.Maildir(self.maildir, factory=None, create=False)
        out: list[EmailMessage] = []
        for key in sorted(box.keys(), key=_delivery_order):
            parsed: Any = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
            out.append(parsed)
        return out

    def messages_to(self, address: str) -> list[EmailMessage]:
        """Messages whose envelope recipients include `address` (e.g. the bounce address)."""
        address = address.lower()
        return [
            m
            for m in self.messages()
            if address in [a.strip().lower() for a in str(m.get("X-RcptTo", "")).split(",")]
        ]
