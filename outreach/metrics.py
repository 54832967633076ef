"""The process's Prometheus metrics (prometheus_client): what the send engine counts as it
goes. What the database knows at scrape time (queue depth, oldest due message, unknowns,
breaker states) is collected when /metrics is read, not counted here.

Every process exposes its own: `outreach serve` at /metrics, `outreach worker` on its
--metrics-port. Label values are channel names, message states, compliance rule ids and
provider keys (our own sending number or relay), never a debtor's number or address.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

MESSAGES = Counter(
    "outreach_messages",
    "Messages that reached a state in this process, by channel, state and deciding rule.",
    ["channel", "state", "rule"],
)
PROVIDER_SECONDS = Histogram(
    "outreach_provider_seconds",
    "Time a provider call took, by channel and outcome (sent, retryable, permanent, unknown).",
    ["channel", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
RETRIES = Counter(
    "outreach_send_retries",
    "Sends the provider refused for now and that will be tried again, by channel and code.",
    ["channel", "code"],
)
UNKNOWNS = Counter(
    "outreach_unknown_outcomes",
    "Sends whose outcome is unknown (counted against caps, never resent), by channel and cause.",
    ["channel", "cause"],
)
BREAKER_TRANSITIONS = Counter(
    "outreach_breaker_transitions",
    "Circuit breaker state changes seen by this process, by provider key and new state.",
    ["provider", "state"],
)
TICK_SECONDS = Histogram(
    "outreach_tick_seconds",
    "Duration of one scheduler job run, by job (planner, dispatcher, bounces, settle).",
    ["job"],
    buckets=(0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60),
)
DRAIN_SECONDS = Histogram(
    "outreach_drain_seconds",
    "How long a graceful shutdown took from the signal to the last record.",
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60),
)
