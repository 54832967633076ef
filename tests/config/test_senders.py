"""What sending needs from the environment, and what it refuses: a guessable or shipped
link-signing key, the sandbox's public Twilio token against a real Twilio, half an SMTP login,
a plain-http public URL once a real provider sends links and signs callbacks to it."""

from __future__ import annotations

import pytest

from outreach.config.files import ConfigError
from outreach.config.loader import Config
from outreach.config.settings import DEV_SECRET_KEY, SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN
from tests.conftest import CONFIG_DIR

KEY = "k" * 32
SECRETS = (
    "OUTREACH_PUBLIC_URL",
    "OUTREACH_SECRET_KEY",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "OUTREACH_SMTP_USERNAME",
    "OUTREACH_SMTP_PASSWORD",
)
REAL = {"OUTREACH_SECRET_KEY": KEY, "TWILIO_ACCOUNT_SID": "AC" + "1" * 32}
REAL_TOKEN = {**REAL, "TWILIO_AUTH_TOKEN": "f" * 32}


def configured(
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    *,
    sms: str = "sandbox",
    email: str = "sandbox",
    base_url: str | None = None,
) -> Config:
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = Config(CONFIG_DIR)
    f = config.file
    config.file = f.model_copy(
        update={
            "sms": f.sms.model_copy(update={"mode": sms, "base_url": base_url}),
            "email": f.email.model_copy(update={"mode": email}),
        }
    )
    return config


@pytest.mark.parametrize(("sms", "email"), [("sandbox", "sandbox"), ("twilio", "smtp")])
def test_a_short_secret_key_is_refused_in_any_mode(
    monkeypatch: pytest.MonkeyPatch, sms: str, email: str
) -> None:
    for key in ("x", "k" * 31):
        config = configured(monkeypatch, {**REAL_TOKEN, "OUTREACH_SECRET_KEY": key}, sms=sms)
        with pytest.raises(
            ConfigError,
            match=rf"^OUTREACH_SECRET_KEY is too short \({len(key)} of at least 32 characters\)",
        ):
            config.check_senders()
    configured(monkeypatch, REAL_TOKEN, sms=sms, email=email).check_senders()


def test_the_shipped_development_key_is_refused_with_a_real_provider(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {**REAL_TOKEN, "OUTREACH_SECRET_KEY": DEV_SECRET_KEY}
    with pytest.raises(ConfigError, match="development key shipped with outreach, which is"):
        configured(monkeypatch, env, email="smtp").check_senders()
    sandboxed = configured(monkeypatch, env)
    sandboxed.check_senders()  # what sandbox mode uses anyway
    assert sandboxed.secret_key == DEV_SECRET_KEY


def test_the_sandbox_token_is_refused_against_a_twilio_not_on_this_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {
        **REAL,
        "TWILIO_ACCOUNT_SID": SANDBOX_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": SANDBOX_AUTH_TOKEN,
    }
    for base_url in (None, "https://gateway.example.com/twilio"):
        with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN is the sandbox's token"):
            configured(monkeypatch, env, sms="twilio", base_url=base_url).check_senders()
    # A rehearsal against `outreach sandbox` on this machine (README).
    local = "http://127.0.0.1:8025/sandbox/twilio"
    configured(monkeypatch, env, sms="twilio", base_url=local).check_senders()


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"OUTREACH_SMTP_USERNAME": "outreach"}, "OUTREACH_SMTP_PASSWORD"),
        ({"OUTREACH_SMTP_PASSWORD": "pw"}, "OUTREACH_SMTP_USERNAME"),
    ],
)
def test_half_an_smtp_login_names_the_missing_half(
    monkeypatch: pytest.MonkeyPatch, given: dict[str, str], missing: str
) -> None:
    with pytest.raises(ConfigError, match=f"^{missing} must be set with OUTREACH_SMTP_"):
        configured(monkeypatch, {**REAL, **given}, email="smtp").check_senders()


def test_twilio_mode_names_only_the_credential_that_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ConfigError, match=r"^TWILIO_AUTH_TOKEN must be set for sms mode 'twilio'"):
        configured(monkeypatch, REAL, sms="twilio").check_senders()


@pytest.mark.parametrize(
    ("url", "sms", "email", "refused"),
    [
        ("http://collect.example.com", "twilio", "sandbox", "plain http, with sms mode 'twilio'"),
        ("http://collect.example.com", "sandbox", "smtp", "plain http, with email mode 'smtp'"),
        ("http://10.0.0.5:8000", "twilio", "smtp", "plain http"),
        ("https://collect.example.com", "twilio", "smtp", None),
        ("http://127.0.0.1:8000", "twilio", "smtp", None),
        ("http://localhost:8000", "twilio", "smtp", None),
        ("http://[::1]:8000", "twilio", "smtp", None),
        ("http://collect.example.com", "sandbox", "sandbox", None),  # a trial: no real sends
        ("collect.example.com", "sandbox", "sandbox", "is not an http"),
        ("ftp://collect.example.com", "twilio", "smtp", "is not an http"),
    ],
)
def test_public_url_is_https_once_a_real_provider_sends(
    monkeypatch: pytest.MonkeyPatch, url: str, sms: str, email: str, refused: str | None
) -> None:
    env = {**REAL_TOKEN, "OUTREACH_PUBLIC_URL": url}
    config = configured(monkeypatch, env, sms=sms, email=email)
    if refused is None:
        config.check_senders()
        return
    with pytest.raises(ConfigError, match=r"^public_url \(OUTREACH_PUBLIC_URL or outreach.toml\)"):
        config.check_senders()
    with pytest.raises(ConfigError, match=refused):
        config.check_senders()


def test_shipped_credentials_are_named_for_the_start_up_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shipped = configured(monkeypatch, {}).shipped_credentials()
    assert shipped == ["OUTREACH_SECRET_KEY", "TWILIO_AUTH_TOKEN"]
    assert configured(monkeypatch, REAL_TOKEN).shipped_credentials() == []
    env = {"OUTREACH_SECRET_KEY": KEY}
    assert configured(monkeypatch, env).shipped_credentials() == ["TWILIO_AUTH_TOKEN"]
