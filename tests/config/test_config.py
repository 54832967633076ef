"""Configuration errors name the file, the line, the field path and the reason."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from outreach.config.campaigns import load_campaigns
from outreach.config.files import ConfigError
from outreach.config.loader import Config, describe
from tests.conftest import CONFIG_DIR


def _config_copy(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, target)
    return target


def test_shipped_config_is_valid() -> None:
    config = Config(CONFIG_DIR)
    config.validate_all()
    assert set(config.campaigns) == {"standard", "hardship"}
    standard = config.campaigns["standard"]
    assert [(s.day, s.channel) for s in standard.steps] == [
        (0, "letter"),
        (1, "email"),
        (3, "sms"),
        (7, "email"),
        (10, "sms"),
        (30, "letter"),
    ]
    assert standard.steps[0].kind == "validation_notice"
    assert config.policy.contact_window.for_channel("letter") is None


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (
            "name: x\nsteps:\n  - id: a\n    day: 0\n    channel: fax\n    template: fax/a\n",
            "x.yaml:5: steps[0].channel: Input should be 'sms', 'email' or 'letter'",
        ),
        (
            "name: x\nsteps:\n  - id: a\n    day: 3\n    channel: sms\n    template: sms/a\n"
            "  - id: b\n    day: 1\n    channel: sms\n    template: sms/b\n",
            "x.yaml:3: steps: Value error, steps must be listed in order of their day",
        ),
        (
            "name: x\nsteps:\n  - id: a\n    day: -1\n    channel: sms\n    template: sms/a\n",
            "x.yaml:4: steps[0].day: Input should be greater than or equal to 0",
        ),
        (
            "name: x\nsteps:\n  - id: a\n    day: 0\n    channel: sms\n    template: email/a\n",
            "x.yaml:3: steps[0]: Value error, template 'email/a' must live under sms/",
        ),
        (
            "name: x\nsegmnt: {}\nsteps:\n  - {id: a, day: 0, channel: sms, template: sms/a}\n",
            "x.yaml:2: segmnt: Extra inputs are not permitted",
        ),
        ("name: x\nsteps: [\n", "x.yaml:3: invalid YAML"),
        ("name: x\n", "x.yaml:1: steps: Field required"),
    ],
)
def test_bad_campaign_file_names_file_line_field_and_reason(
    tmp_path: Path, yaml_text: str, expected: str
) -> None:
    (tmp_path / "x.yaml").write_text(yaml_text)
    with pytest.raises(ConfigError) as info:
        load_campaigns(tmp_path)
    assert expected in str(info.value)
    assert str(tmp_path / "x.yaml") in str(info.value)


def test_every_bad_campaign_is_reported_not_just_the_first(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: a\n")
    (tmp_path / "b.yaml").write_text("name: b\nsteps: 3\n")
    with pytest.raises(ConfigError) as info:
        load_campaigns(tmp_path)
    assert "a.yaml" in str(info.value) and "b.yaml" in str(info.value)


def test_duplicate_campaign_name(tmp_path: Path) -> None:
    body = "name: same\nsteps:\n  - {id: a, day: 0, channel: sms, template: sms/a}\n"
    (tmp_path / "a.yaml").write_text(body)
    (tmp_path / "b.yaml").write_text(body)
    with pytest.raises(ConfigError, match=r"b\.yaml: name: campaign 'same' is defined twice"):
        load_campaigns(tmp_path)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (
            "contact_window:\n  default:\n    start: '22:00'\n    end: '08:00'\n",
            "policy.yaml:3: contact_window.default: "
            "Value error, start 22:00 must be before end 08:00",
        ),
        (
            "frequency_caps:\n  - {id: a, channels: [sms], max: 0, days: 7}\n",
            "policy.yaml:2: frequency_caps[0].max: Input should be greater than or equal to 1",
        ),
        (
            "frequency_caps:\n  - {id: a, max: 1, days: 7}\n  - {id: a, max: 2, days: 7}\n",
            "frequency cap id 'a' is used twice",
        ),
    ],
)
def test_bad_policy(tmp_path: Path, policy: str, expected: str) -> None:
    directory = _config_copy(tmp_path)
    (directory / "policy.yaml").write_text(policy)
    with pytest.raises(ConfigError) as info:
        Config(directory).validate_all()
    assert expected in str(info.value)


def test_a_license_number_the_policy_requires_but_the_agency_does_not_print_is_refused(
    tmp_path: Path,
) -> None:
    """Otherwise every message to California would be blocked at send time."""
    directory = _config_copy(tmp_path)
    toml = directory / "outreach.toml"
    toml.write_text(toml.read_text().replace("License 10000-99", "License 10000-98"))
    with pytest.raises(ConfigError, match=r"outreach.toml: agency.licenses.CA: .*'10000-99'"):
        Config(directory).validate_all()


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    directory = _config_copy(tmp_path)
    (directory / "outreach.toml").write_text("[sms]\nmode = 'pigeon'\n")
    with pytest.raises(
        ConfigError, match=r"outreach.toml: sms.mode: Input should be 'sandbox' or 'twilio'"
    ):
        Config(directory)


def test_environment_overrides_and_secrets_are_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTREACH_DATABASE_URL", "postgresql+psycopg://app:hunter2@db:5432/x")
    monkeypatch.setenv("OUTREACH_PUBLIC_URL", "https://collect.example.com/")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "tok-secret")
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC123")
    config = Config(CONFIG_DIR)
    assert config.database_url.endswith("@db:5432/x")
    assert config.public_url == "https://collect.example.com"
    assert config.twilio_credentials == ("AC123", "tok-secret")
    printed = repr(describe(config))
    assert "hunter2" not in printed and "tok-secret" not in printed
    assert "TWILIO_AUTH_TOKEN" in printed


def test_real_providers_refuse_to_run_without_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "OUTREACH_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    directory = _config_copy(tmp_path)
    toml = (
        (directory / "outreach.toml").read_text().replace('mode = "sandbox"', 'mode = "twilio"', 1)
    )
    (directory / "outreach.toml").write_text(toml)
    config = Config(directory)
    with pytest.raises(ConfigError, match="TWILIO_ACCOUNT_SID"):
        _ = config.twilio_credentials
    with pytest.raises(ConfigError, match="OUTREACH_SECRET_KEY"):
        _ = config.secret_key


def test_web_settings_from_the_file(tmp_path: Path) -> None:
    directory = _config_copy(tmp_path)
    toml = directory / "outreach.toml"
    toml.write_text(
        toml.read_text() + '"/api/" = 1024\n'  # appended to the shipped [web.body_limits]
    )
    web = Config(directory).file.web
    assert web.body_limits == {"/webhooks/": 65536, "/api/": 1024}
    assert (web.max_body_bytes, web.trust_proxy) == (65536, False)


@pytest.mark.parametrize("section", ["web", "inbound"])
def test_trust_proxy_is_one_switch_under_its_new_and_its_old_name(
    tmp_path: Path, section: str
) -> None:
    """`[inbound] trust_proxy` (before issue 13) still trusts the proxy, for uvicorn's client
    address too; `[web] trust_proxy` also covers the Twilio signature URL."""
    directory = _config_copy(tmp_path)
    toml = directory / "outreach.toml"
    text = toml.read_text().replace("trust_proxy = false\n", "")
    toml.write_text(text.replace(f"[{section}]\n", f"[{section}]\ntrust_proxy = true\n", 1))
    file = Config(directory).file
    assert file.web.trust_proxy and file.inbound.trust_proxy


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ('proxy_addresses = ["proxy.local"]', "not an IP address or network: 'proxy.local'"),
        ("max_body_bytes = -1", "web.max_body_bytes: Input should be greater than or equal to 0"),
        ("body_limits = { webhooks = 10 }", "path prefixes start with '/': 'webhooks'"),
    ],
)
def test_bad_web_settings_are_refused(tmp_path: Path, setting: str, expected: str) -> None:
    directory = _config_copy(tmp_path)
    (directory / "outreach.toml").write_text(f"[web]\n{setting}\n")
    with pytest.raises(ConfigError, match=re.escape(expected)):
        Config(directory)
