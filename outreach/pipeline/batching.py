"""Group commit: what many tasks ask for at about the same moment is written in one
transaction.

Each send commits `sending` just before its channel call and its result just after, but
sends that start (or finish) together share one commit: while one transaction runs in a
worker thread, new requests queue up and go together in the next. A round also waits up to
`window` seconds for company, unless `enough` requests are already in (every lane that could
ask has asked): a transaction costs far more than the few milliseconds, and sends that finish
at slightly different moments (SMTP, HTTP) would otherwise each pay for one (PostgreSQL's
`commit_delay` works the same way).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """`submit(item)` returns `write(items)[i]` for its item; `write` runs in a thread."""

    def __init__(
        self,
        write: Callable[[list[T]], Sequence[R]],
        name: str,
        *,
        window: float = 0.0,
        enough: Callable[[], int] = lambda: 1,
    ) -> None:
        self._write = write
        self._name = name
        self._window = window
        self._enough = enough
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._full = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if len(self._pending) >= self._enough():
            self._full.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"group-commit:{self._name}")
        return await future

    async def flush(self) -> None:
        """Wait until everything submitted so far is written."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def _run(self) -> None:
        while self._pending:
            if self._window > 0 and len(self._pending) < self._enough():
                self._full.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), self._window)
            batch, self._pending = self._pending, []
            try:
                results = await asyncio.to_thread(self._write, [item for item, _ in batch])
            except Exception as exc:  # every waiter sees the failure; the next batch retries
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
