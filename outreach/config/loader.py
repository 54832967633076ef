"""Load and validate settings (outreach.toml + environment), campaigns and policy.

Every error names the file, the field path (with its line where YAML tells us) and the reason.
"""

from __future__ import annotations

import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from outreach.compliance.policy import Policy
from outreach.config.campaigns import Campaign, load_campaigns
from outreach.config.errors import ConfigError, config_directory
from outreach.config.files import load_yaml_model
from outreach.config.settings import (
    DEV_SECRET_KEY,
    MIN_SECRET_KEY_CHARS,
    SANDBOX_ACCOUNT_SID,
    SANDBOX_AUTH_TOKEN,
    Secrets,
    load_settings_file,
)


class Config:
    """Everything outreach reads from `config/` and the environment, validated once."""

    def __init__(self, config_dir: Path | str | None = None) -> None:
        self.dir = config_directory(config_dir)
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
    def real_providers(self) -> list[str]:
        """The channels that talk to a real provider (not the local stand-ins)."""
        modes = {"sms": self.file.sms.mode, "email": self.file.email.mode}
        return [f"{name} mode {mode!r}" for name, mode in modes.items() if mode != "sandbox"]

    @property
    def secret_key(self) -> str:
        if self.secrets.secret_key is not None:
            key = self.secrets.secret_key.get_secret_value()
            if key == DEV_SECRET_KEY:
                if self.real_providers:
                    raise ConfigError(
                        "OUTREACH_SECRET_KEY is the development key shipped with outreach, which"
                        f" is public: set a random key of your own with {self.real_providers[0]}"
                    )
            elif len(key) < MIN_SECRET_KEY_CHARS:
                raise ConfigError(
                    f"OUTREACH_SECRET_KEY is too short ({len(key)} of at least"
                    f" {MIN_SECRET_KEY_CHARS} characters): it signs links, so it must not be"
                    " guessable; make one with python -c"
                    ' "import secrets; print(secrets.token_urlsafe(48))"'
                )
            return key
        if not self.real_providers:
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
        missing = [
            n for n, v in (("TWILIO_ACCOUNT_SID", sid), ("TWILIO_AUTH_TOKEN", token)) if not v
        ]
        raise ConfigError(f"{' and '.join(missing)} must be set for sms mode 'twilio'")

    def shipped_credentials(self) -> list[str]:
        """The variables whose value in use is the public one shipped for the sandbox."""
        shipped = []
        if self.secret_key == DEV_SECRET_KEY:
            shipped.append("OUTREACH_SECRET_KEY")
        if self.twilio_credentials[1] == SANDBOX_AUTH_TOKEN:
            shipped.append("TWILIO_AUTH_TOKEN")
        return shipped

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

    def check_senders(self) -> None:
        """What sending needs from the environment: the link-signing key, the credentials
        of the real providers, a public URL fit for them. Raises ConfigError naming what is
        missing or wrong."""
        _ = self.secret_key
        _ = self.twilio_credentials
        sms, email = self.file.sms, self.file.email
        if (
            sms.mode == "twilio"
            and self.twilio_credentials[1] == SANDBOX_AUTH_TOKEN
            and not _loopback(sms.base_url or "https://api.twilio.com")
        ):
            # Anyone could sign the webhooks this server accepts with that token.
            raise ConfigError(
                "TWILIO_AUTH_TOKEN is the sandbox's token shipped with outreach, which is public:"
                " with sms mode 'twilio' it is accepted only for a stand-in on this machine"
                " ([sms] base_url on 127.0.0.1)"
            )
        if email.mode == "smtp":
            login = {
                "OUTREACH_SMTP_USERNAME": self.secrets.smtp_username,
                "OUTREACH_SMTP_PASSWORD": self.secrets.smtp_password,
            }
            if any(login.values()) and not all(login.values()):
                given, missing = sorted(login, key=lambda n: not login[n])
                raise ConfigError(f"{missing} must be set with {given} (the SMTP login)")
        self._check_public_url()

    def _check_public_url(self) -> None:
        """Links and Twilio's signed callbacks go to public_url: over https once a real
        provider sends them; plain http only on this machine (a rehearsal, a stand-in)."""
        url = self.public_url
        where = "public_url (OUTREACH_PUBLIC_URL or outreach.toml)"
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{where}: {url!r} is not an http(s) URL with a host")
        if parts.scheme == "http" and self.real_providers and not _loopback(url):
            raise ConfigError(
                f"{where}: {url} is plain http, with {self.real_providers[0]}: links and"
                " webhook signatures would cross the network in clear; use https (http is"
                " accepted on 127.0.0.1 or localhost only)"
            )

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


def _loopback(url: str) -> bool:
    """Whether the URL's host is this machine (localhost, 127.0.0.0/8, ::1)."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
