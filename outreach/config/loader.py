"""Load and validate settings (outreach.toml + environment), campaigns and policy.

Every error names the file, the field path (with its line where YAML tells us) and the reason.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from outreach.compliance.policy import Policy
from outreach.config.campaigns import Campaign, load_campaigns
from outreach.config.errors import ConfigError, config_directory
from outreach.config.files import load_yaml_model
from outreach.config.settings import (
    DEV_SECRET_KEY,
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

    def check_senders(self) -> None:
        """What sending needs from the environment: the link-signing key and, in twilio
        mode, the credentials. Raises ConfigError naming what is missing."""
        _ = self.secret_key
        _ = self.twilio_credentials

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
