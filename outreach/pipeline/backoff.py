"""When a send the provider refused for now (certainly not sent) is tried again.

Exponential backoff with full jitter: workers that failed together do not retry together.
"""

from __future__ import annotations

import random
from datetime import timedelta


def backoff(attempts: int, base: timedelta, maximum: timedelta) -> timedelta:
    """The wait before attempt `attempts + 1`: between `base` and
    min(`maximum`, base * 2**(attempts - 1)), uniformly."""
    doubling: int = 2 ** (attempts - 1)  # int ** int is typed Any (a negative power is a float)
    ceiling = min(maximum, base * doubling)
    jitter: float = random.random()
    return base + (ceiling - base) * jitter
