"""Which part of the site a request path is in: one rule for the body limits, the security
headers and the console's error pages."""

from __future__ import annotations


def under(path: str, prefix: str) -> bool:
    """Whether `path` is `prefix` or below it, by whole segments: "/webhooks" and
    "/webhooks/" cover /webhooks and /webhooks/..., not /webhooksX."""
    base = prefix.rstrip("/")
    return path == base or path.startswith(base + "/")
