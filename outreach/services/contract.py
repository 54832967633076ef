"""What every service call takes and gives back: who acts and when (`Acting`), what
happened (`Outcome`), and the error for an object that does not exist (`NotFound`).

Each service function owns its transaction: it opens `session.begin()` on a session that
has none open, commits on success, and on any error rolls back, so nothing is written. A
refusal is an `ActionError` (the caller shows its text, 400); an unknown id is `NotFound`
(404). The console and the API map these the same way and differ only in how they show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session

from outreach.db.users import User

Row = TypeVar("Row")


class NotFound(LookupError):
    """The thing named in the request does not exist (404)."""


@dataclass(frozen=True)
class Acting:
    """The signed-in user on whose behalf a service acts, and the clock's now."""

    user: User
    now: datetime

    @property
    def actor(self) -> str:
        """The audit trail's name for the user."""
        return f"agent:{self.user.name}"


@dataclass(frozen=True)
class Outcome:
    """What an action did: the row it made or touched, and whether anything changed."""

    id: int | None = None
    changed: bool = True


def found(session: Session, model: type[Row], key: int, what: str) -> Row:
    """The row of `model` with primary key `key`, or NotFound("no <what> <key>")."""
    row = session.get(model, key)
    if row is None:
        raise NotFound(f"no {what} {key}")
    return row
