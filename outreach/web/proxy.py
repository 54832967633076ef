"""Whose X-Forwarded-For/-Proto uvicorn believes: the configured proxy's, or nobody's.

uvicorn's own default trusts them from loopback, so a client on the same host (or any client,
behind a local proxy that passes the header on) could pick its address: a new one per wrong
password defeats the sign-in limit and writes fake addresses into the audit log. Off unless
`web.trust_proxy`, for `outreach serve` and the embedded server alike.
"""

from __future__ import annotations

from typing import TypedDict

from outreach.config.settings import WebSettings


class ProxyOptions(TypedDict):
    """uvicorn.Config's keyword arguments for forwarded headers."""

    proxy_headers: bool
    forwarded_allow_ips: list[str]


NO_PROXY = ProxyOptions(proxy_headers=False, forwarded_allow_ips=[])


def proxy_options(settings: WebSettings) -> ProxyOptions:
    if not settings.trust_proxy:
        return NO_PROXY
    return ProxyOptions(proxy_headers=True, forwarded_allow_ips=list(settings.proxy_addresses))
