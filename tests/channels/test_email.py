"""SmtpEmailChannel through aiosmtplib to aiosmtpd (SmtpCatcher) and raw SMTP peers on loopback."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.handlers import Mailbox

from outreach.channels.base import OutboundMessage, SendResult, SendStatus, prepare
from outreach.channels.email import SmtpEmailChannel
from outreach.channels.mime import Composed
from outreach.sandbox.smtp_catcher import SmtpCatcher
from tests.conftest import free_port

FROM = "Example Recovery <notices@example-recovery.test>"
UNSUBSCRIBE = "https://outreach.test/u/abc123?sig=xyz"

ChannelFactory = Callable[..., SmtpEmailChannel]


def mail(to: str = "pat@example.test", **kw: Any) -> OutboundMessage:
    fields: dict[str, Any] = {
        "message_id": 42,
        "channel": "email",
        "to": to,
        "subject": "Your account",
        "text": "Hello Pat.\nTo stop these emails: " + UNSUBSCRIBE,
    }
    fields.update(kw)
    return OutboundMessage(**fields)


class RefusingMailbox(Mailbox):
    """A Maildir that refuses some recipients, the way a real server would at RCPT."""

    def __init__(self, maildir: Path, refuse: dict[str, str]) -> None:
        super().__init__(maildir)
        self.refuse = refuse

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"


REFUSED = {
    "nobody@example.test": "550 5.1.1 <nobody@example.test>: No such user",
    "busy@example.test": "451 4.3.0 Mailbox temporarily unavailable",
}


@pytest.fixture
def catcher(tmp_path: Path) -> Iterator[SmtpCatcher]:
    maildir = tmp_path / "maildir"
    with SmtpCatcher(maildir, handler=RefusingMailbox(maildir, REFUSED)) as running:
        yield running


@pytest.fixture
async def make_channel(catcher: SmtpCatcher) -> AsyncIterator[ChannelFactory]:
    made: list[SmtpEmailChannel] = []

    def make(**overrides: Any) -> SmtpEmailChannel:
        kwargs: dict[str, Any] = {
            "host": catcher.host,
            "port": catcher.port,
            "from_address": FROM,
            "pool_size": 1,
            "timeout": 5.0,
        }
        kwargs.update(overrides)
        channel = SmtpEmailChannel(kwargs.pop("host"), kwargs.pop("port"), **kwargs)
        made.append(channel)
        return channel

    yield make
    for channel in made:
        await channel.aclose()


async def test_multipart_with_one_click_unsubscribe(
    make_channel: ChannelFactory, catcher: SmtpCatcher
) -> None:
    channel = make_channel(reply_to="help@example-recovery.test")
    result = await channel.send(mail(html="<p>Hello Pat.</p>", unsubscribe_url=UNSUBSCRIBE))

    assert result.status is SendStatus.SENT
    [got] = catcher.messages()
    assert got.get_content_type() == "multipart/alternative"
    text, html = got.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert text.get_content().startswith("Hello Pat.\n")
    assert html.get_content_type() == "text/html"
    assert html.get_content().strip() == "<p>Hello Pat.</p>"
    assert got["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert got["X-Outreach-Message-Id"] == "42"
    assert got["Message-ID"] == result.provider_id
    assert str(got["Message-ID"]).endswith("@example-recovery.test>")
    assert got["Date"] is not None
    assert got["From"] == FROM
    assert got["To"] == "pat@example.test"
    assert got["Reply-To"] == "help@example-recovery.test"
    assert got["Subject"] == "Your account"
    assert got["X-MailFrom"] == "notices@example-recovery.test"
    assert got["X-RcptTo"] == "pat@example.test"


async def test_text_only_without_unsubscribe_link(
    make_channel: ChannelFactory, catcher: SmtpCatcher
) -> None:
    result = await make_channel().send(mail(subject="Straße €", text="Plain ünïcode."))

    assert result.status is SendStatus.SENT
    [got] = catcher.messages()
    assert got.get_content_type() == "text/plain"
    assert got.get_content() == "Plain ünïcode.\n"
    assert got["Subject"] == "Straße €"
    assert "List-Unsubscribe" not in got
    assert "List-Unsubscribe-Post" not in got


async def test_one_pooled_connection_carries_every_message(
    make_channel: ChannelFactory, catcher: SmtpCatcher
) -> None:
    channel = make_channel(pool_size=1)
    results = await asyncio.gather(*(channel.send(mail(message_id=i)) for i in range(5)))

    assert all(r.status is SendStatus.SENT for r in results)
    got = catcher.messages()
    assert sorted(m["X-Outreach-Message-Id"] for m in got) == [str(i) for i in range(5)]
    # aiosmtpd stamps each message with the client's (address, port): one peer, one connection.
    assert len({m["X-Peer"] for m in got}) == 1


async def test_pool_bounds_connections(make_channel: ChannelFactory, catcher: SmtpCatcher) -> None:
    channel = make_channel(pool_size=2)
    results = await asyncio.gather(*(channel.send(mail(message_id=i)) for i in range(8)))

    assert all(r.status is SendStatus.SENT for r in results)
    assert 1 <= len({m["X-Peer"] for m in catcher.messages()}) <= 2


async def test_recipient_refused_is_permanent_and_connection_survives(
    make_channel: ChannelFactory, catcher: SmtpCatcher
) -> None:
    channel = make_channel()
    refused = await channel.send(mail(to="nobody@example.test"))
    accepted = await channel.send(mail())

    assert refused.status is SendStatus.PERMANENT
    assert refused.error_code == "550"
    assert refused.error_message == "5.1.1 <nobody@example.test>: No such user"
    assert accepted.status is SendStatus.SENT
    assert len(catcher.messages()) == 1


async def test_temporary_refusal_is_retryable(
    make_channel: ChannelFactory, catcher: SmtpCatcher
) -> None:
    result = await make_channel().send(mail(to="busy@example.test"))

    assert result.status is SendStatus.RETRYABLE
    assert result.error_code == "451"
    assert catcher.messages() == []


async def test_connection_refused_is_retryable() -> None:
    channel = SmtpEmailChannel("127.0.0.1", free_port(), from_address=FROM, timeout=2.0)
    try:
        result = await channel.send(mail())
    finally:
        await channel.aclose()

    assert result.status is SendStatus.RETRYABLE
    assert result.error_code == "SMTPConnectError"


async def test_drop_after_data_is_unknown_and_the_connection_is_replaced() -> None:
    connections = 0

    async def smtp_that_hangs_up_after_data(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        nonlocal connections
        connections += 1
        writer.write(b"220 drop.test ESMTP\r\n")
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb == b"DATA":
                writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                await writer.drain()
                while await reader.readline() not in (b".\r\n", b""):
                    pass
                writer.close()  # the message is in; the answer never comes
                return
            writer.write(b"221 bye\r\n" if verb == b"QUIT" else b"250 OK\r\n")
            await writer.drain()

    server = await asyncio.start_server(smtp_that_hangs_up_after_data, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    channel = SmtpEmailChannel("127.0.0.1", port, from_address=FROM, pool_size=1, timeout=2.0)
    async with server:
        first = await channel.send(mail())
        second = await channel.send(mail())
        await channel.aclose()

    assert first.status is SendStatus.UNKNOWN
    assert first.error_code == "SMTPServerDisconnected"
    assert second.status is SendStatus.UNKNOWN
    assert connections == 2  # never retried, but the broken connection was reopened


def test_from_address_must_carry_an_address() -> None:
    with pytest.raises(ValueError, match="from_address"):
        SmtpEmailChannel("127.0.0.1", 25, from_address="Nobody")


async def test_header_injection_is_refused(
    make_channel: ChannelFactory, catcher: SmtpCatcher
) -> None:
    result = await make_channel().send(mail(to="pat@example.test\r\nBcc: all@example.test"))

    assert result.status is SendStatus.PERMANENT
    assert result.error_code == "invalid"
    assert catcher.messages() == []


# The bytes on the wire, read back with the stdlib parser the way a mail reader would.

SPANISH = "Estimada señora Peña: su cuenta está pendiente. ¿Podemos ayudarle? 😀"


def parse(data: bytes) -> EmailMessage:
    parsed = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(parsed, EmailMessage)
    return parsed


def lf(text: str) -> str:
    return text.replace("\r\n", "\n")


def built(**kw: Any) -> bytes:
    channel = SmtpEmailChannel(
        "127.0.0.1",
        25,
        from_address=kw.pop("from_address", FROM),
        reply_to=kw.pop("reply_to", None),
    )
    return channel.build(mail(**kw)).data


def test_bytes_parse_back_to_the_same_headers_and_parts() -> None:
    data = built(
        reply_to="Ayuda <help@example-recovery.test>",
        html="<p>Hello Pat.</p>",
        unsubscribe_url=UNSUBSCRIBE,
    )
    got = parse(data)

    assert got["From"] == FROM
    assert got["To"] == "pat@example.test"
    assert got["Reply-To"] == "Ayuda <help@example-recovery.test>"
    assert got["Subject"] == "Your account"
    assert got["X-Outreach-Message-Id"] == "42"
    assert got["MIME-Version"] == "1.0"
    assert got["Date"].datetime.utcoffset() == timedelta(0)
    assert re.fullmatch(r"<[^<>@\s]+@example-recovery\.test>", got["Message-ID"])
    assert got["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert got.get_content_type() == "multipart/alternative"
    assert got.defects == []
    text, html = got.iter_parts()
    assert (text.get_content_type(), text.get_content_charset()) == ("text/plain", "utf-8")
    assert lf(text.get_content()) == "Hello Pat.\nTo stop these emails: " + UNSUBSCRIBE + "\n"
    assert (html.get_content_type(), html.get_content_charset()) == ("text/html", "utf-8")
    assert lf(html.get_content()) == "<p>Hello Pat.</p>\n"


def test_spanish_and_emoji_round_trip_in_seven_bit_lines() -> None:
    long_html = "<p>" + " ".join([SPANISH] * 30) + "</p>"
    data = built(
        from_address="Recuperación Ejemplo <notices@example-recovery.test>",
        subject=SPANISH,
        text=SPANISH + "\n\n" + SPANISH,
        html=long_html,
    )
    got = parse(data)

    assert got["From"] == "Recuperación Ejemplo <notices@example-recovery.test>"
    assert got["Subject"] == SPANISH
    text, html = got.iter_parts()
    assert lf(text.get_content()) == SPANISH + "\n\n" + SPANISH + "\n"
    assert lf(html.get_content()) == long_html + "\n"
    assert all(p["Content-Transfer-Encoding"] == "quoted-printable" for p in (text, html))
    # What crosses a 7-bit relay: ASCII only, CRLF only, every line within RFC 5322's 78.
    assert data.isascii()
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in data.split(b"\r\n")) <= 78
    assert b"=?utf-8?" in data.split(b"\r\n\r\n")[0]  # RFC 2047 words in the headers


def test_text_only_is_a_single_part() -> None:
    got = parse(built(text="Only text, ñ."))

    assert got.get_content_type() == "text/plain"
    assert not got.is_multipart()
    assert lf(got.get_content()) == "Only text, ñ.\n"


def test_boundary_never_occurs_inside_a_part() -> None:
    # A body quoting the boundary style verbatim: quoted-printable escapes its "=".
    trap = "--=_0123456789abcdef01234567\n--=_0123456789abcdef01234567--"
    got = parse(built(text=trap, html=f"<pre>{trap}</pre>"))

    text, html = got.iter_parts()
    assert lf(text.get_content()) == trap + "\n"
    assert lf(html.get_content()) == f"<pre>{trap}</pre>\n"


@pytest.mark.parametrize(
    "field",
    [
        {"subject": "Your account\r\nBcc: all@example.test"},
        {"subject": "Your account\nBcc: all@example.test"},
        {"unsubscribe_url": "https://outreach.test/u\r\nBcc: all@example.test"},
        {"to": "pat@example.test\nBcc: all@example.test"},
        {"to": "Pat <pat@example.test>, all@example.test"},
    ],
)
async def test_unsafe_headers_are_refused_before_sending(
    make_channel: ChannelFactory, catcher: SmtpCatcher, field: dict[str, str]
) -> None:
    result = await make_channel().send(mail(**field))

    assert result.status is SendStatus.PERMANENT
    assert result.error_code == "invalid"
    assert catcher.messages() == []


async def test_non_ascii_address_goes_with_smtputf8(
    make_channel: ChannelFactory, catcher: SmtpCatcher
) -> None:
    result = await make_channel().send(mail(to="josé@example.test"))

    assert result.status is SendStatus.SENT
    [got] = catcher.messages()
    assert got["To"] == "josé@example.test"
    assert got["X-RcptTo"] == "josé@example.test"


async def test_spanish_email_end_to_end_through_smtp(
    make_channel: ChannelFactory, catcher: SmtpCatcher
) -> None:
    channel = make_channel(from_address="Recuperación Ejemplo <notices@example-recovery.test>")
    results: list[SendResult] = await asyncio.gather(
        *(
            channel.send(
                mail(
                    message_id=i,
                    subject=SPANISH,
                    text=SPANISH,
                    html=f"<p>{SPANISH}</p>",
                    unsubscribe_url=UNSUBSCRIBE,
                )
            )
            for i in range(3)
        )
    )

    assert [r.status for r in results] == [SendStatus.SENT] * 3
    got = catcher.messages()
    assert sorted(m["Message-ID"] for m in got) == sorted(str(r.provider_id) for r in results)
    for message in got:
        assert message["Subject"] == SPANISH
        assert message["From"] == "Recuperación Ejemplo <notices@example-recovery.test>"
        assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
        text, html = message.iter_parts()
        assert text.get_content() == SPANISH + "\n"
        assert html.get_content() == f"<p>{SPANISH}</p>\n"


@pytest.mark.parametrize(
    ("silent_at", "status"),
    [(b"MAIL", SendStatus.RETRYABLE), (b".\r\n", SendStatus.UNKNOWN)],
)
async def test_a_server_that_stops_answering_times_out(
    silent_at: bytes, status: SendStatus
) -> None:
    """Before DATA nothing was accepted (retryable); after the message went, it may have been."""

    async def smtp_that_goes_quiet(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        writer.write(b"220 quiet.test ESMTP\r\n")
        in_data = False
        while line := await reader.readline():
            if line.startswith(silent_at) and (in_data or silent_at != b".\r\n"):
                await reader.read()  # hold the line open, answer nothing
                return
            if in_data:
                continue
            verb = line[:4].upper()
            if verb == b"DATA":
                in_data = True
                writer.write(b"354 go ahead\r\n")
            else:
                writer.write(b"250 OK\r\n")
            await writer.drain()

    server = await asyncio.start_server(smtp_that_goes_quiet, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    channel = SmtpEmailChannel("127.0.0.1", port, from_address=FROM, pool_size=1, timeout=0.5)
    async with server:
        result = await channel.send(mail())
        await channel.aclose()

    assert result.status is status
    assert result.error_code == "timeout"


async def test_bytes_prepared_off_the_loop_are_the_ones_sent(
    make_channel: ChannelFactory, catcher: SmtpCatcher
) -> None:
    """The dispatcher builds each email's bytes in its check thread (`prepare`); the channel
    then sends exactly those bytes, and a message whose bytes cannot be built is answered
    at send time with the reason, as without `prepare`."""
    channel = make_channel()
    ready = await asyncio.to_thread(prepare, channel, mail(html="<p>Hi</p>"))
    assert isinstance(ready.wire, Composed)
    result = await channel.send(ready)
    assert result.status is SendStatus.SENT
    [got] = catcher.messages()
    assert got["Message-ID"] == ready.wire.message_id == result.provider_id

    bad = prepare(channel, mail(subject="Hi\r\nBcc: all@example.test"))
    assert bad.wire is None
    refused = await channel.send(bad)
    assert (refused.status, refused.error_code) == (SendStatus.PERMANENT, "invalid")
    assert len(catcher.messages()) == 1
