"""The service layer's errors as HTTP errors, the same for the console and the API: an
unknown object is 404 and a refused action 400, each with the service's own words."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import HTTPException, status

from outreach.actions.audit import ActionError
from outreach.services.contract import NotFound


@contextmanager
def http_errors() -> Iterator[None]:
    try:
        yield
    except NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except ActionError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
