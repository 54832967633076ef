"""A small client for the faults admin of a running sandbox (`outreach sandbox fault`, tests).

control = SandboxControl("http://127.0.0.1:8025")
control.fail_next("twilio", 3, status=429, code=20429, retry_after=2)
control.state()["twilio"]["accepted"]
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from outreach.sandbox.admin import FAULTS_PREFIX


class SandboxError(Exception):
    """The admin refused the request (`status`, and its reason) or could not be reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class SandboxControl:
    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        """`base_url` is where the sandbox's HTTP server listens, e.g. http://127.0.0.1:8025."""
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)

    def fail_next(
        self,
        target: str,
        n: int = 1,
        *,
        status: int | None = None,
        code: int | None = None,
        message: str = "",
        retry_after: float | None = None,
    ) -> dict[str, Any]:
        """Refuse the next `n` requests. Twilio: HTTP `status` and error `code` (default: the
        status); SMTP: the reply `code` (451, 550...)."""
        body: dict[str, Any] = {"n": n}
        if target == "twilio":
            body |= {"status": status or 503, "code": code, "retry_after": retry_after}
        elif code is not None or status is not None:
            body["code"] = code or status
        if message:
            body["message"] = message
        return self._call("POST", f"/{target}/fail-next", body)

    def storm(
        self,
        target: str,
        seconds: float,
        *,
        status: int | None = None,
        code: int | None = None,
        message: str = "",
        retry_after: float | None = None,
    ) -> dict[str, Any]:
        """Refuse everything for `seconds`."""
        body: dict[str, Any] = {"seconds": seconds}
        if target == "twilio":
            body |= {"status": status or 500, "code": code, "retry_after": retry_after}
        elif code is not None or status is not None:
            body["code"] = code or status
        if message:
            body["message"] = message
        return self._call("POST", f"/{target}/storm", body)

    def delay_next(self, target: str, n: int = 1, *, seconds: float) -> dict[str, Any]:
        return self._call("POST", f"/{target}/delay-next", {"n": n, "seconds": seconds})

    def clear(self, target: str | None = None) -> dict[str, Any]:
        return self._call("DELETE", f"/{target}" if target else "")

    def state(self, target: str | None = None) -> dict[str, Any]:
        return self._call("GET", f"/{target}" if target else "")

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = self._http.request(method, FAULTS_PREFIX + path, json=body)
        except httpx.HTTPError as exc:
            raise SandboxError(f"{self._http.base_url}{FAULTS_PREFIX}{path}: {exc}") from exc
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise SandboxError(f"{response.status_code}: {_reason(detail)}", response.status_code)
        result: dict[str, Any] = response.json()
        return result

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SandboxControl:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _reason(detail: Any) -> str:
    """FastAPI's 422 detail (a list of errors) on one line: `field: message; ...`."""
    if isinstance(detail, list):
        return "; ".join(
            ".".join(str(p) for p in e.get("loc", ())[1:]) + f": {e.get('msg', '')}"
            for e in detail
            if isinstance(e, dict)
        )
    return str(detail)
