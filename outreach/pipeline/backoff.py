"""When a send the provider refused for now (certainly not sent) is tried again.

Exponential backoff with full jitter (uniform in [0, min(maximum, base * 2**(n-1))]), on every
retry including the first: workers that failed together do not retry together. A provider's
Retry-After comes first: the wait starts after it.
"""

from __future__ import annotations

import random
from datetime import timedelta


def backoff(
    attempts: int, base: timedelta, maximum: timedelta, retry_after: float | None = None
) -> timedelta:
    """The wait before attempt `attempts + 1`."""
    doubling: int = 2 ** max(0, attempts - 1)  # int ** int is typed Any (negative powers)
    ceiling = min(maximum, base * doubling)
    jitter: float = random.random()
    return timedelta(seconds=retry_after or 0.0) + ceiling * jitter
