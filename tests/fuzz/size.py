"""How many examples a fuzz test runs: its CI size, or OUTREACH_FUZZ_EXAMPLES for a long local
run (e.g. `OUTREACH_FUZZ_EXAMPLES=500 pytest tests/fuzz`)."""

from __future__ import annotations

import os

LONG_RUN = int(os.environ.get("OUTREACH_FUZZ_EXAMPLES") or 0)


def examples(ci: int) -> int:
    return LONG_RUN or ci
