"""Where the configuration lives and how a wrong one is reported: the part of `config` a
command needs before it loads anything (so `outreach --help` imports no pydantic)."""

from __future__ import annotations

import os
from pathlib import Path


class ConfigError(Exception):
    """A configuration file is wrong; the message says where and why."""


def config_directory(given: Path | str | None = None) -> Path:
    """The configuration folder: `given`, else OUTREACH_CONFIG_DIR, else ./config."""
    return Path(given or os.environ.get("OUTREACH_CONFIG_DIR") or "config")
