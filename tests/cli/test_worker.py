"""`outreach worker` as a real process: it plans and sends what is due, once, and a SIGTERM
drains it (in-flight sends finish, the rest goes back to planned, exit 0)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from tests.worker_harness import seed, site


async def test_a_worker_sends_each_due_message_once_then_drains_on_sigterm(
    tmp_path: Path, db_url: str
) -> None:
    async with site(tmp_path, db_url) as s:
        seed(s.engine, sms=30, email=30)
        await s.start("w1")
        states = await s.settled(60, timeout=60)
        assert states == {"sent": 60}, s.log("w1")
        assert set(s.deliveries().values()) == {1} and len(s.deliveries()) == 60
        codes = await s.stop_all(signal.SIGTERM)
        assert codes == {"w1": 0}, s.log("w1")
        assert "drained in" in s.log("w1")
