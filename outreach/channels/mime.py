"""MIME bytes for one outgoing email, written directly instead of through `email.message`.

`EmailMessage` runs every header through the policy's parser and folder, and the SMTP client
then flattens the object again: most of an email's CPU cost. A sender's fixed headers are
encoded once (`MimeSkeleton`); per message only the recipient, subject, ids, date and the
bodies are written. What a mail reader relies on is kept: RFC 2047 encoded words for
non-ASCII subjects and display names (`email.header` / `email.utils`), UTF-8 bodies in
quoted-printable (whose "=" escaping means the "=_" boundary can never occur in a part),
CRLF line endings, lines within 76 characters where they can be folded and 998 always,
multipart/alternative for text + HTML, and the RFC 8058 one-click unsubscribe headers.
"""

from __future__ import annotations

import binascii
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr

_MAX_LINE = 998  # RFC 5322 2.1.1: the hard limit, CRLF excluded
_FOLD_AT = 76
_PART_HEADERS = {
    subtype: f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
    "Content-Transfer-Encoding: quoted-printable\r\n"
    for subtype in ("plain", "html")
}


@dataclass(frozen=True, slots=True)
class Composed:
    """One message as it goes on the wire: DATA bytes and what the envelope needs."""

    data: bytes
    message_id: str  # the Message-ID header, angle brackets included
    recipient: str  # the envelope recipient (RCPT TO)
    utf8: bool  # the recipient's address is not ASCII: the session needs SMTPUTF8


def _no_line_breaks(name: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"{name} may not contain line breaks: {value!r}")
    return value


def _mailbox(name: str, value: str) -> str:
    """`Display Name <addr>` with the name quoted or RFC 2047 encoded as it needs."""
    display, address = parseaddr(_no_line_breaks(name, value))
    if "@" not in address:
        raise ValueError(f"{name} has no email address: {value!r}")
    return formataddr((display, address), charset="utf-8")


def _header(name: str, value: str) -> str:
    """One header line: as is when it is short ASCII, else folded or encoded by `Header`."""
    _no_line_breaks(name, value)
    line = f"{name}: {value}\r\n"
    if value.isascii() and "=?" not in value and len(line) <= _FOLD_AT + 2:
        return line
    charset = "us-ascii" if value.isascii() and "=?" not in value else "utf-8"
    folded = Header(value, charset, maxlinelen=_FOLD_AT, header_name=name).encode(linesep="\r\n")
    return f"{name}: {folded}\r\n"


def _body(text: str) -> str:
    """UTF-8 quoted-printable with CRLF line ends; ends with a line break like `set_content`."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        text += "\n"
    # With CRLF in its input, b2a_qp writes CRLF soft breaks too.
    encoded = binascii.b2a_qp(text.replace("\n", "\r\n").encode(), istext=True)
    return encoded.decode("ascii")


class _Clock:
    """The Date header, formatted once per second rather than per message."""

    def __init__(self) -> None:
        self._second = -1
        self._value = ""

    def date(self) -> str:
        now = int(time.time())
        if now != self._second:
            self._second = now
            self._value = format_datetime(datetime.fromtimestamp(now, UTC))  # ... +0000
        return self._value


class MimeSkeleton:
    """A sender's fixed headers, encoded once; `compose` adds one message's parts."""

    def __init__(self, from_address: str, reply_to: str | None = None) -> None:
        sender = _mailbox("from_address", from_address)
        self.domain = parseaddr(sender)[1].rpartition("@")[2]
        fixed = f"From: {sender}\r\n"
        if reply_to:
            fixed += f"Reply-To: {_mailbox('reply_to', reply_to)}\r\n"
        self._fixed = fixed
        self._clock = _Clock()

    def message_id(self) -> str:
        return f"<{os.urandom(12).hex()}@{self.domain}>"  # 96 random bits: unique enough

    def compose(
        self,
        *,
        to: str,
        subject: str,
        text: str,
        html: str | None = None,
        outreach_id: int | str,
        unsubscribe_url: str | None = None,
    ) -> Composed:
        """The message's bytes. Raises ValueError on a header that cannot be written safely
        (a line break: header injection; a line over 998 characters; an address without @)."""
        recipient = _no_line_breaks("to", to).strip()
        if "@" not in recipient or parseaddr(recipient)[1] != recipient:
            raise ValueError(f"to is not an email address: {to!r}")
        message_id = self.message_id()
        head = [
            self._fixed,
            f"To: {recipient}\r\n",
            _header("Subject", subject),
            f"Date: {self._clock.date()}\r\n",
            f"Message-ID: {message_id}\r\n",
            f"X-Outreach-Message-Id: {outreach_id}\r\n",
        ]
        if unsubscribe_url:
            url = _no_line_breaks("unsubscribe_url", unsubscribe_url)
            if any(c in url for c in " \t<>") or not url.isascii():
                raise ValueError(f"unsubscribe_url is not a plain URL: {url!r}")
            head.append(f"List-Unsubscribe: <{url}>\r\n")
            head.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
        head.append("MIME-Version: 1.0\r\n")
        if html is None:
            head.append(_PART_HEADERS["plain"])
            body = ["\r\n", _body(text)]
        else:
            boundary = f"=_{os.urandom(12).hex()}"
            head.append(f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n')
            body = ["\r\n"]
            for subtype, content in (("plain", text), ("html", html)):
                body += (f"--{boundary}\r\n", _PART_HEADERS[subtype], "\r\n")
                body += (_body(content), "\r\n")
            body.append(f"--{boundary}--\r\n")
        headers = "".join(head)
        if max(map(len, headers.split("\r\n"))) > _MAX_LINE:
            raise ValueError(f"a header line is over {_MAX_LINE} characters")
        data = (headers + "".join(body)).encode()
        return Composed(data, message_id, recipient, utf8=not recipient.isascii())
