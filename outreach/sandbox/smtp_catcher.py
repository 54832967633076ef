"""A local SMTP server that keeps every message in a Maildir: the sandbox's outside mailbox.

aiosmtpd's `Controller` runs the server on its own thread and loop. It cannot bind port 0 as
shipped (aio-libs/aiosmtpd#388): after binding it "triggers" the server by connecting to the
port it was given, i.e. port 0. `_Controller` reads the real port from the bound socket first.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
import re
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox


class _Controller(Controller):
    def _trigger_server(self) -> None:
        sockets = getattr(self.server, "sockets", None)  # an asyncio.Server once bound
        if self.port == 0 and sockets:
            self.port = sockets[0].getsockname()[1]
        super()._trigger_server()


_KEY = re.compile(r"^(\d+)\.M(\d+)P\d+Q(\d+)")


def _delivery_order(key: str) -> tuple[int, ...]:
    # Maildir names written by Python's mailbox: "<secs>.M<usecs>P<pid>Q<counter>.<host>".
    match = _KEY.match(key)
    return tuple(int(g) for g in match.groups()) if match else (0, 0, 0)


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
    ) -> None:
        self.maildir = Path(maildir)
        self.maildir.parent.mkdir(parents=True, exist_ok=True)
        self.host = host
        self._requested_port = port
        self.handler = handler if handler is not None else Mailbox(self.maildir)
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
