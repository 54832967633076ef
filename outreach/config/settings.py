"""`outreach.toml`: database, agency, channels, scheduler, inbound, console and web server
settings; secrets only from the environment."""

from __future__ import annotations

import ipaddress
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from outreach.config.files import ConfigError, Model, validation_error


class DatabaseSettings(Model):
    url: str = "sqlite:///var/outreach.db"


class AgencySettings(Model):
    name: str = "Example Recovery Services LLC"
    phone: str = "+18005550199"
    email: str = "help@example-recovery.test"
    website: str = "https://pay.example-recovery.test"
    address: list[str] = Field(default_factory=lambda: ["PO Box 1000", "Springfield, IL 62701"])
    hours: str = "Monday to Friday, 8 a.m. to 8 p.m. Central"
    # State license numbers printed on messages where a state requires it (CA Civ. Code 1788.11).
    licenses: dict[str, str] = Field(default_factory=dict)


class SmsSettings(Model):
    mode: Literal["sandbox", "twilio"] = "sandbox"
    from_number: str | None = "+15005550006"
    messaging_service_sid: str | None = None
    status_callback: bool = True
    # Messages per second from one sender (the from number or the Messaging Service), shared
    # by every worker through the database.
    max_per_second: float = Field(default=10.0, gt=0)
    timeout_seconds: float = Field(default=15.0, gt=0)
    # A Twilio-compatible API (a gateway, a stand-in) instead of https://api.twilio.com, in
    # "twilio" mode. Sandbox mode always uses the local stand-in.
    base_url: str | None = None

    @property
    def sender(self) -> str:
        """The key the shared rate limit and the breaker use for this sender."""
        return f"sms:{self.messaging_service_sid or self.from_number}"

    @model_validator(mode="after")
    def _sender(self) -> SmsSettings:
        if not self.from_number and not self.messaging_service_sid:
            raise ValueError("set from_number or messaging_service_sid")
        return self


class EmailSettings(Model):
    mode: Literal["sandbox", "smtp"] = "sandbox"
    host: str = "127.0.0.1"
    port: int = Field(default=2525, ge=0, le=65535)  # 0 in sandbox: pick a free port
    use_tls: bool = False
    start_tls: bool | None = None  # None: aiosmtplib's default (upgrade when offered)
    from_address: str = "Example Recovery <notices@example-recovery.test>"
    reply_to: str | None = None
    # Connections kept open to the relay: as many as the email lane sends at once
    # ([scheduler.concurrency] email), so no send waits for a connection.
    pool_size: int = Field(default=8, ge=1, le=64)
    timeout_seconds: float = Field(default=30.0, gt=0)
    # Messages per second through this relay, shared by every worker; None: no limit.
    max_per_second: float | None = Field(default=None, gt=0)

    @property
    def sender(self) -> str:
        """The key the shared rate limit and the breaker use for this relay."""
        return f"email:{self.host}:{self.port}"


class LetterSettings(Model):
    output_dir: str = "var/letters"
    return_address: list[str] = Field(default_factory=list)  # defaults to the agency address


class SandboxSettings(Model):
    dir: str = "var/sandbox"
    smtp_port: int = Field(default=2525, ge=0, le=65535)


class SchedulerSettings(Model):
    planner_seconds: float = Field(default=60, gt=0)
    dispatcher_seconds: float = Field(default=5, gt=0)
    batch_size: int = Field(default=200, ge=1, le=10_000)
    lease_seconds: int = Field(default=300, ge=10)
    max_send_attempts: int = Field(default=5, ge=1)
    concurrency: dict[str, int] = Field(default_factory=lambda: {"sms": 8, "email": 8, "letter": 2})
    # A send the provider refused for now waits uniformly in [0, min(max, base * 2**n)]
    # (full jitter) before try n + 1; a Retry-After from the provider is waited out first.
    retry_base_seconds: float = Field(default=30, gt=0)
    retry_max_seconds: float = Field(default=3600, gt=0)
    # A live worker renews its leases this often (default: a third of lease_seconds).
    heartbeat_seconds: float | None = Field(default=None, gt=0)
    # A checked message not handed to its channel within this long is checked again.
    ready_seconds: float = Field(default=60, gt=0)
    # SIGTERM/SIGINT: stop claiming, give in-flight sends this long, release the rest.
    drain_seconds: float = Field(default=30, ge=0)
    # Unknown SMS with a Twilio SID are looked up (and settled) this often.
    settle_seconds: float = Field(default=60, gt=0)

    @model_validator(mode="after")
    def _heartbeat(self) -> SchedulerSettings:
        if self.heartbeat_seconds is not None and self.heartbeat_seconds * 2 > self.lease_seconds:
            raise ValueError("heartbeat_seconds must be at most half of lease_seconds")
        if self.retry_max_seconds < self.retry_base_seconds:
            raise ValueError("retry_max_seconds must be at least retry_base_seconds")
        return self

    @property
    def heartbeat(self) -> float:
        return self.heartbeat_seconds or self.lease_seconds / 3


class BreakerSettings(Model):
    """One circuit breaker per provider (sms sender, SMTP relay, letter folder), shared by all
    workers through the database."""

    # Open after this many failures in a row...
    consecutive_failures: int = Field(default=5, ge=1)
    # ...or when this share of the last `window` results failed (with at least `min_calls`).
    failure_rate: float = Field(default=0.5, gt=0, le=1)
    window: int = Field(default=20, ge=2, le=200)
    min_calls: int = Field(default=10, ge=1)
    # Open this long before one trial send; each failed trial doubles it, up to the max.
    open_seconds: float = Field(default=10, gt=0)
    max_open_seconds: float = Field(default=300, gt=0)


class InboundSettings(Model):
    """Replies to debtors' SMS, delivery status, unsubscribe and bounces (issue 4)."""

    # T2: one confirmation, never two. Twilio long codes (and Advanced Opt-Out) answer the
    # exact carrier keywords themselves: then set provider_handles_keywords and outreach
    # confirms only what the provider cannot recognise (plain-language requests).
    send_opt_out_confirmation: bool = True
    provider_handles_keywords: bool = False
    # Anything the parser cannot act on goes to the agents' inbox; answer it at all?
    neutral_acknowledgement: bool = False
    # T3 (CTIA): the HELP reply states the message frequency.
    message_frequency: str = "Msg frequency varies"
    message_frequency_es: str = "La frecuencia de los mensajes varía"  # the Spanish replies'
    pay_link_days: int = Field(default=7, ge=1, le=90)
    promise_max_days: int = Field(default=60, ge=1, le=365)
    promise_followup_template: str = "sms/promise_followup"
    # Deprecated: web.trust_proxy (this was its home before issue 13; either turns on both).
    trust_proxy: bool = False
    # Form fields Twilio added after this release, accepted on the webhooks as free text
    # (every other field outside Twilio's documented ones is refused with a 400).
    twilio_extra_fields: list[str] = Field(default_factory=list)
    # Envelope sender (Return-Path) of outgoing email: where DSNs (RFC 3464) come back.
    bounce_address: str | None = "bounces@example-recovery.test"
    # A Maildir the mail server delivers bounces to; in sandbox mode the SMTP catcher's.
    bounce_maildir: str | None = None
    bounce_poll_seconds: float = Field(default=60, gt=0)

    @field_validator("promise_followup_template")
    @classmethod
    def _sms_template(cls, value: str) -> str:
        if not value.startswith("sms/"):
            raise ValueError("the promise follow-up is an SMS: name it sms/NAME")
        return value


class ConsoleSettings(Model):
    """The agent console and JSON API (issue 5)."""

    session_hours: float = Field(default=12, gt=0, le=24 * 30)
    # Failed sign-ins allowed per user name and client IP in the window; then 429 until it ends.
    sign_in_max_failures: int = Field(default=5, ge=1)
    # ...and per client IP over all user names (one address guessing many names).
    sign_in_max_failures_per_address: int = Field(default=20, ge=1)
    sign_in_window_minutes: int = Field(default=15, ge=1)
    # The session cookie's Secure flag; None: set it when public_url is https.
    secure_cookie: bool | None = None
    page_size: int = Field(default=50, ge=10, le=500)
    dashboard_days: int = Field(default=14, ge=1, le=366)


KIB = 1024


class WebSettings(Model):
    """The HTTP server (issue 13): whose forwarded headers to believe, how large a body may be."""

    # Behind a reverse proxy: believe its X-Forwarded-For (the client address that sign-in
    # limits and the audit log use) and X-Forwarded-Proto/Host (the URL Twilio signed), from
    # proxy_addresses only. Off, they are ignored: any client could claim any address.
    trust_proxy: bool = False
    # The proxy's addresses or networks (uvicorn's forwarded_allow_ips), with trust_proxy.
    proxy_addresses: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"], min_length=1)
    # The largest request body in bytes, chunked or not: refused (413) as soon as it is passed,
    # before any parsing or signature check. body_limits by path prefix (the longest wins).
    max_body_bytes: int = Field(default=64 * KIB, ge=0)
    body_limits: dict[str, Annotated[int, Field(ge=0)]] = Field(
        default_factory=lambda: {"/webhooks/": 64 * KIB}
    )

    @field_validator("proxy_addresses")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for address in value:
            try:
                ipaddress.ip_network(address, strict=False)
            except ValueError:
                raise ValueError(f"not an IP address or network: {address!r}") from None
        return value

    @field_validator("body_limits")
    @classmethod
    def _prefixes(cls, value: dict[str, int]) -> dict[str, int]:
        bad = [p for p in value if not p.startswith("/")]
        if bad:
            raise ValueError(f"path prefixes start with '/': {', '.join(map(repr, bad))}")
        return value


class FileSettings(Model):
    database: DatabaseSettings = DatabaseSettings()
    public_url: str = "http://127.0.0.1:8000"
    default_region: str = "US"
    agency: AgencySettings = AgencySettings()
    sms: SmsSettings = SmsSettings()
    email: EmailSettings = EmailSettings()
    letter: LetterSettings = LetterSettings()
    sandbox: SandboxSettings = SandboxSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    breaker: BreakerSettings = BreakerSettings()
    inbound: InboundSettings = InboundSettings()
    console: ConsoleSettings = ConsoleSettings()
    web: WebSettings = WebSettings()

    @model_validator(mode="before")
    @classmethod
    def _one_trust_proxy(cls, data: Any) -> Any:
        """`inbound.trust_proxy` (before issue 13) and `web.trust_proxy` are one switch."""
        if not isinstance(data, dict):
            return data
        web, inbound = data.get("web", {}), data.get("inbound", {})
        if not (isinstance(web, dict) and isinstance(inbound, dict)):
            return data
        if web.get("trust_proxy") is True or inbound.get("trust_proxy") is True:
            data = {
                **data,
                "web": {**web, "trust_proxy": True},
                "inbound": {**inbound, "trust_proxy": True},
            }
        return data


class Secrets(BaseSettings):
    """Secrets and deployment overrides: only ever from the environment."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    database_url: str | None = Field(default=None, alias="OUTREACH_DATABASE_URL")
    public_url: str | None = Field(default=None, alias="OUTREACH_PUBLIC_URL")
    secret_key: SecretStr | None = Field(default=None, alias="OUTREACH_SECRET_KEY")
    twilio_account_sid: str | None = Field(default=None, alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: SecretStr | None = Field(default=None, alias="TWILIO_AUTH_TOKEN")
    smtp_username: str | None = Field(default=None, alias="OUTREACH_SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(default=None, alias="OUTREACH_SMTP_PASSWORD")


# The sandbox's credentials and the development link-signing key ship with outreach, so they
# are public: fine on one machine, refused with a real provider, warned about at start-up.
SANDBOX_ACCOUNT_SID = "AC" + "0" * 32


SANDBOX_AUTH_TOKEN = "sandbox-auth-token"


DEV_SECRET_KEY = "outreach-dev-only-secret-key"


# OUTREACH_SECRET_KEY signs pay, dispute and unsubscribe links and CSRF tokens: long enough
# that it cannot be guessed (`python -c "import secrets; print(secrets.token_urlsafe(48))"`).
MIN_SECRET_KEY_CHARS = 32


def load_settings_file(path: Path) -> FileSettings:
    if not path.exists():
        return FileSettings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    try:
        return FileSettings.model_validate(data)
    except ValidationError as exc:
        raise validation_error(path, exc, None) from exc
