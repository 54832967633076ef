"""Load and validate settings (outreach.toml + environment), campaigns and policy.

Every error names the file, the field path (with its line where YAML tells us) and the reason.
"""

from __future__ import annotations

import os
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from outreach.compliance.policy import Policy

M = TypeVar("M", bound=BaseModel)


class ConfigError(Exception):
    """A configuration file is wrong; the message says where and why."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- outreach.toml -----------------------------------------------------------------------------


class DatabaseSettings(_Model):
    url: str = "sqlite:///var/outreach.db"


class AgencySettings(_Model):
    name: str = "Example Recovery Services LLC"
    phone: str = "+18005550199"
    email: str = "help@example-recovery.test"
    website: str = "https://pay.example-recovery.test"
    address: list[str] = Field(default_factory=lambda: ["PO Box 1000", "Springfield, IL 62701"])
    hours: str = "Monday to Friday, 8 a.m. to 8 p.m. Central"
    # State license numbers printed on messages where a state requires it (CA Civ. Code 1788.11).
    licenses: dict[str, str] = Field(default_factory=dict)


class SmsSettings(_Model):
    mode: Literal["sandbox", "twilio"] = "sandbox"
    from_number: str | None = "+15005550006"
    messaging_service_sid: str | None = None
    status_callback: bool = True
    max_per_second: float = Field(default=10.0, gt=0)
    timeout_seconds: float = Field(default=15.0, gt=0)

    @model_validator(mode="after")
    def _sender(self) -> SmsSettings:
        if not self.from_number and not self.messaging_service_sid:
            raise ValueError("set from_number or messaging_service_sid")
        return self


class EmailSettings(_Model):
    mode: Literal["sandbox", "smtp"] = "sandbox"
    host: str = "127.0.0.1"
    port: int = Field(default=2525, ge=0, le=65535)  # 0 in sandbox: pick a free port
    use_tls: bool = False
    start_tls: bool | None = None  # None: aiosmtplib's default (upgrade when offered)
    from_address: str = "Example Recovery <notices@example-recovery.test>"
    reply_to: str | None = None
    pool_size: int = Field(default=4, ge=1, le=64)
    timeout_seconds: float = Field(default=30.0, gt=0)


class LetterSettings(_Model):
    output_dir: str = "var/letters"
    return_address: list[str] = Field(default_factory=list)  # defaults to the agency address


class SandboxSettings(_Model):
    dir: str = "var/sandbox"
    smtp_port: int = Field(default=2525, ge=0, le=65535)


class SchedulerSettings(_Model):
    planner_seconds: float = Field(default=60, gt=0)
    dispatcher_seconds: float = Field(default=5, gt=0)
    batch_size: int = Field(default=200, ge=1, le=10_000)
    lease_seconds: int = Field(default=300, ge=10)
    max_send_attempts: int = Field(default=5, ge=1)
    concurrency: dict[str, int] = Field(default_factory=lambda: {"sms": 8, "email": 8, "letter": 2})


class InboundSettings(_Model):
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
    pay_link_days: int = Field(default=7, ge=1, le=90)
    promise_max_days: int = Field(default=60, ge=1, le=365)
    promise_followup_template: str = "sms/promise_followup"
    # Honour X-Forwarded-Proto/Host when checking Twilio signatures (only behind a proxy
    # that sets them; otherwise anyone could choose the URL that gets validated).
    trust_proxy: bool = False
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


class ConsoleSettings(_Model):
    """The agent console and JSON API (issue 5)."""

    session_hours: float = Field(default=12, gt=0, le=24 * 30)
    # Failed sign-ins allowed per user name and client IP in the window; then 429 until it ends.
    sign_in_max_failures: int = Field(default=5, ge=1)
    sign_in_window_minutes: int = Field(default=15, ge=1)
    # The session cookie's Secure flag; None: set it when public_url is https.
    secure_cookie: bool | None = None
    page_size: int = Field(default=50, ge=10, le=500)
    dashboard_days: int = Field(default=14, ge=1, le=366)


class FileSettings(_Model):
    database: DatabaseSettings = DatabaseSettings()
    public_url: str = "http://127.0.0.1:8000"
    default_region: str = "US"
    agency: AgencySettings = AgencySettings()
    sms: SmsSettings = SmsSettings()
    email: EmailSettings = EmailSettings()
    letter: LetterSettings = LetterSettings()
    sandbox: SandboxSettings = SandboxSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    inbound: InboundSettings = InboundSettings()
    console: ConsoleSettings = ConsoleSettings()


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


SANDBOX_ACCOUNT_SID = "AC" + "0" * 32
SANDBOX_AUTH_TOKEN = "sandbox-auth-token"
DEV_SECRET_KEY = "outreach-dev-only-secret-key"


# --- campaigns ---------------------------------------------------------------------------------

StepChannel = Literal["sms", "email", "letter"]
OnlyIf = Literal["email_on_file", "phone_on_file", "address_on_file"]
SkipIf = Literal["paid", "disputed"]
StopWhen = Literal["paid", "dispute", "cease", "attorney", "bankruptcy", "deceased"]
DEFAULT_STOP_WHEN: tuple[StopWhen, ...] = (
    "paid",
    "dispute",
    "cease",
    "attorney",
    "bankruptcy",
    "deceased",
)
MessageKind = Literal["collection", "validation_notice", "cease_ack", "remedy"]


class Segment(_Model):
    """Which accounts a campaign enrolls. Every set field must match."""

    min_balance: float | None = Field(default=None, ge=0)
    max_balance: float | None = Field(default=None, ge=0)
    min_days_past_due: int | None = Field(default=None, ge=0)
    max_days_past_due: int | None = Field(default=None, ge=0)
    states: list[str] = Field(default_factory=list, description="empty = every state")
    tags_any: list[str] = Field(default_factory=list)
    tags_none: list[str] = Field(default_factory=list)
    include_time_barred: bool = True


class Step(_Model):
    id: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    day: int = Field(ge=0, le=3650, description="days after enrollment")
    channel: StepChannel
    template: str = Field(min_length=1)
    kind: MessageKind = "collection"
    only_if: list[OnlyIf] = Field(default_factory=list)
    skip_if: list[SkipIf] = Field(default_factory=list)

    @model_validator(mode="after")
    def _template_matches_channel(self) -> Step:
        if not self.template.startswith(f"{self.channel}/"):
            raise ValueError(
                f"template {self.template!r} must live under {self.channel}/"
                f" for a {self.channel} step"
            )
        return self


class Campaign(_Model):
    name: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    description: str = ""
    priority: int = 100  # lower wins when several campaigns match an account
    auto_enroll: bool = True
    segment: Segment = Segment()
    stop_when: list[StopWhen] = Field(default_factory=lambda: list(DEFAULT_STOP_WHEN))
    steps: list[Step] = Field(min_length=1)

    @field_validator("steps")
    @classmethod
    def _steps_ordered_and_unique(cls, steps: list[Step]) -> list[Step]:
        ids = [s.id for s in steps]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"step ids must be unique; repeated: {', '.join(dupes)}")
        days = [s.day for s in steps]
        if days != sorted(days):
            raise ValueError("steps must be listed in order of their day")
        return steps


# --- loading with precise errors ---------------------------------------------------------------


def _yaml_line(root: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at `loc`, or of its nearest existing parent."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            match = node.value[key]
        else:
            match = None
        if match is None:
            break
        node = match
        line = node.start_mark.line + 1
    return line


def _format_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _validation_error(path: Path, exc: ValidationError, root: yaml.Node | None) -> ConfigError:
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        where = f"{path}"
        line = _yaml_line(root, loc) if root is not None else None
        if line is not None:
            where += f":{line}"
        lines.append(f"{where}: {_format_loc(loc)}: {err['msg']}")
    return ConfigError("\n".join(lines))


def load_yaml_model(path: Path, model: type[M]) -> M:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(path, exc, root) from exc


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
        raise _validation_error(path, exc, None) from exc


def load_campaigns(directory: Path) -> dict[str, Campaign]:
    campaigns: dict[str, Campaign] = {}
    errors: list[str] = []
    for path in sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml")):
        try:
            campaign = load_yaml_model(path, Campaign)
        except ConfigError as exc:
            errors.append(str(exc))
            continue
        if campaign.name in campaigns:
            errors.append(f"{path}: name: campaign {campaign.name!r} is defined twice")
            continue
        campaigns[campaign.name] = campaign
    if errors:
        raise ConfigError("\n".join(errors))
    return campaigns


class Config:
    """Everything outreach reads from `config/` and the environment, validated once."""

    def __init__(self, config_dir: Path | str | None = None) -> None:
        self.dir = Path(config_dir or os.environ.get("OUTREACH_CONFIG_DIR") or "config")
        self.file = load_settings_file(self.dir / "outreach.toml")
        self.secrets = Secrets()

    # Deployment values: environment first, then outreach.toml.
    @property
    def database_url(self) -> str:
        return self.secrets.database_url or self.file.database.url

    @property
    def public_url(self) -> str:
        return (self.secrets.public_url or self.file.public_url).rstrip("/")

    @property
    def sandbox(self) -> bool:
        return self.file.sms.mode == "sandbox" or self.file.email.mode == "sandbox"

    @property
    def secret_key(self) -> str:
        if self.secrets.secret_key is not None:
            return self.secrets.secret_key.get_secret_value()
        if self.file.sms.mode == "sandbox" and self.file.email.mode == "sandbox":
            return DEV_SECRET_KEY
        raise ConfigError("OUTREACH_SECRET_KEY must be set when a real provider is configured")

    @property
    def twilio_credentials(self) -> tuple[str, str]:
        sid = self.secrets.twilio_account_sid
        token = self.secrets.twilio_auth_token
        if sid and token:
            return sid, token.get_secret_value()
        if self.file.sms.mode == "sandbox":
            return (
                sid or SANDBOX_ACCOUNT_SID,
                token.get_secret_value() if token else SANDBOX_AUTH_TOKEN,
            )
        raise ConfigError(
            "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set for sms mode 'twilio'"
        )

    @cached_property
    def campaigns(self) -> dict[str, Campaign]:
        return load_campaigns(self.dir / "campaigns")

    @cached_property
    def policy(self) -> Policy:
        return load_yaml_model(self.dir / "policy.yaml", Policy)

    def relocate(self, directory: Path) -> Config:
        """Put the database and every output folder under `directory` (demo, tests)."""
        self.secrets.database_url = f"sqlite:///{directory / 'outreach.db'}"
        f = self.file
        self.file = f.model_copy(
            update={
                "letter": f.letter.model_copy(update={"output_dir": str(directory / "letters")}),
                "sandbox": f.sandbox.model_copy(update={"dir": str(directory / "sandbox")}),
            }
        )
        return self

    def validate_all(self) -> None:
        """Load everything now so errors surface at start-up, not at the first send."""
        _ = self.campaigns
        # The compliance check looks for the policy's license number; the templates print
        # the agency's. If they disagree every message to that state would be blocked.
        licenses = self.file.agency.licenses
        for place, rule in self.policy.states.items():
            if rule.license_number and rule.license_number not in licenses.get(place, ""):
                raise ConfigError(
                    f"{self.dir / 'outreach.toml'}: agency.licenses.{place}: must show license"
                    f" number {rule.license_number!r}, which policy.yaml states.{place}"
                    " requires in every message (messages would be blocked)"
                )


def describe(config: Config) -> dict[str, Any]:
    """Settings safe to print: secrets masked."""
    data = config.file.model_dump()
    data["database"]["url"] = _mask_url(config.database_url)
    data["public_url"] = config.public_url
    data["secrets_set"] = sorted(
        name for name, value in config.secrets.model_dump(by_alias=True).items() if value
    )
    return data


def _mask_url(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url
