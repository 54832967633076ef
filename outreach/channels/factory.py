"""Build the configured channels. Sandbox mode points the real clients at loopback stand-ins;
"twilio" mode talks to api.twilio.com, or to `[sms] base_url` when set."""

from __future__ import annotations

from pathlib import Path

from outreach.channels.base import Channel
from outreach.channels.email import SmtpEmailChannel
from outreach.channels.letter import LetterChannel
from outreach.channels.sms import TwilioSmsChannel
from outreach.clock import Clock
from outreach.config.loader import Config


def build_channels(
    config: Config,
    *,
    clock: Clock,
    sms_base_url: str | None = None,
    smtp_port: int | None = None,
) -> dict[str, Channel]:
    """`sms_base_url` / `smtp_port` are where the sandbox listens (required in sandbox mode)."""
    s = config.file
    sid, token = config.twilio_credentials
    if s.sms.mode == "sandbox" and sms_base_url is None:
        raise ValueError("sms sandbox mode needs the sandbox base URL")
    sms = TwilioSmsChannel(
        sid,
        token,
        from_number=s.sms.from_number,
        messaging_service_sid=s.sms.messaging_service_sid,
        # "twilio" mode with [sms] base_url: a Twilio-compatible API (gateway, stand-in).
        base_url=sms_base_url if s.sms.mode == "sandbox" else s.sms.base_url,
        timeout=s.sms.timeout_seconds,
    )
    password = config.secrets.smtp_password
    email = SmtpEmailChannel(
        s.email.host,
        smtp_port if (s.email.mode == "sandbox" and smtp_port) else s.email.port,
        from_address=s.email.from_address,
        reply_to=s.email.reply_to,
        bounce_address=s.inbound.bounce_address,
        use_tls=s.email.use_tls,
        start_tls=s.email.start_tls,
        username=config.secrets.smtp_username,
        password=password.get_secret_value() if password else None,
        pool_size=s.email.pool_size,
        timeout=s.email.timeout_seconds,
    )
    letter = LetterChannel(Path(s.letter.output_dir), clock=clock)
    return {"sms": sms, "email": email, "letter": letter}
