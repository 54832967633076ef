"""Retry a send while its outcome is RETRYABLE, with exponential backoff and full jitter.

Only RETRYABLE means "certainly not sent"; SENT, PERMANENT and UNKNOWN are final here, so a
message the provider may have accepted is never sent twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_result,
    stop_after_attempt,
    wait_random_exponential,
)

from outreach.channels.base import SendResult, SendStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard one `send` tries. Tests shrink `base`/`max_wait` to run in milliseconds."""

    attempts: int = 3  # total tries, the first included
    base: float = 0.5  # seconds: the first wait is uniform in [0, base], then doubles
    max_wait: float = 10.0  # cap on any single wait

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.base < 0 or self.max_wait < 0:
            raise ValueError("base and max_wait must not be negative")


NO_RETRY = RetryPolicy(attempts=1)


def _is_retryable(result: SendResult) -> bool:
    return result.status is SendStatus.RETRYABLE


def _last_result(state: RetryCallState) -> SendResult:
    # Out of attempts: hand back the last RETRYABLE result instead of tenacity's RetryError.
    assert state.outcome is not None
    result: SendResult = state.outcome.result()
    return result


def _log_retry(state: RetryCallState) -> None:
    result = state.outcome.result() if state.outcome and not state.outcome.failed else None
    log.info(
        "send attempt %d retryable (%s), retrying in %.2fs",
        state.attempt_number,
        result.error_code if result else "?",
        state.next_action.sleep if state.next_action else 0.0,
    )


async def send_with_retry(
    attempt: Callable[[], Awaitable[SendResult]], policy: RetryPolicy
) -> SendResult:
    """Call `attempt` until it is not RETRYABLE or the policy's attempts are used up.

    Exceptions are not retried: channels turn provider errors into results, so an exception
    here is a bug and propagates.
    """
    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait_random_exponential(multiplier=policy.base, max=policy.max_wait),
        retry=retry_if_result(_is_retryable),
        retry_error_callback=_last_result,
        before_sleep=_log_retry,
        reraise=True,
    )

    async def call() -> SendResult:
        # tenacity awaits only what it recognises as a coroutine function, not a lambda.
        return await attempt()

    result: SendResult = await retrying(call)
    return result
