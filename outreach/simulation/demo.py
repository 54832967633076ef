"""`outreach demo`: 30 simulated days of the shipped campaigns through the real pipeline.

A fresh SQLite file, the sample portfolio, the real dispatcher, the real twilio client against
the sandbox endpoint, real SMTP into the catcher, real PDFs. Time is a SimulatedClock that
jumps from one due instant to the next, so 30 days take seconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from outreach.channels.factory import build_channels
from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.models import Enrollment, Message, MessageEvent
from outreach.pipeline import planner
from outreach.portfolio.importer import import_csv
from outreach.portfolio.report import ImportReport
from outreach.runtime import Runtime, Sandbox, standalone_sandbox
from outreach.vocabulary import DUE_STATES

DEMO_START = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)  # 05:30 in New York: before the window


@dataclass
class DemoSummary:
    imported: ImportReport
    by_channel: dict[str, Counter[str]] = field(default_factory=dict)
    deferrals: dict[str, int] = field(default_factory=dict)  # per channel, times deferred
    by_rule: Counter[str] = field(default_factory=Counter)  # blocks and deferrals per rule id
    skipped_reasons: Counter[str] = field(default_factory=Counter)
    outputs: dict[str, str] = field(default_factory=dict)
    simulated_until: datetime | None = None


def _next_event(runtime: Runtime) -> datetime | None:
    with runtime.factory() as session:
        message_due = session.scalar(
            select(func.min(Message.due_at)).where(Message.state.in_(DUE_STATES))
        )
        step_due = session.scalar(
            select(func.min(Enrollment.next_due_at)).where(Enrollment.status == "active")
        )
    candidates = [t for t in (message_due, step_due) if t is not None]
    return min(candidates) if candidates else None


async def run_demo(
    config: Config,
    portfolio: Path,
    *,
    days: int = 30,
    start: datetime = DEMO_START,
    progress: Callable[[datetime], None] | None = None,
) -> DemoSummary:
    clock = SimulatedClock(start)
    runtime = Runtime(config, clock)
    runtime.migrate()
    imported = import_csv(runtime.factory, portfolio, clock=clock)
    end = start + timedelta(days=days + 1)  # through the end of day `days`
    async with standalone_sandbox(config) as sandbox:
        channels = build_channels(
            config, clock=clock, sms_base_url=sandbox.sms_base_url, smtp_port=sandbox.smtp_port
        )
        dispatcher = runtime.dispatcher(channels, worker_id="demo")
        try:
            while clock.now() < end:
                planner.tick(runtime.factory, config.campaigns, clock)
                await dispatcher.run_until_idle()
                if progress:
                    progress(clock.now())
                upcoming = _next_event(runtime)
                if upcoming is None or upcoming >= end:
                    break
                clock.set(max(upcoming, clock.now() + timedelta(seconds=1)))
        finally:
            for channel in channels.values():
                await channel.aclose()
        summary = summarize(runtime, imported)
        summary.simulated_until = clock.now()
        summary.outputs = _outputs(config, sandbox)
    return summary


def summarize(runtime: Runtime, imported: ImportReport) -> DemoSummary:
    summary = DemoSummary(imported=imported)
    with runtime.factory() as session:
        for channel, state, count in session.execute(
            select(Message.channel, Message.state, func.count()).group_by(
                Message.channel, Message.state
            )
        ):
            summary.by_channel.setdefault(channel, Counter())[state] = count
        for channel, count in session.execute(
            select(Message.channel, func.count())
            .join(MessageEvent, MessageEvent.message_id == Message.id)
            .where(MessageEvent.to_state == "deferred")
            .group_by(Message.channel)
        ):
            summary.deferrals[channel] = count
        for detail, to_state in session.execute(
            select(MessageEvent.detail, MessageEvent.to_state).where(
                MessageEvent.to_state.in_(("deferred", "blocked", "skipped"))
            )
        ):
            detail = detail or {}
            if to_state == "skipped":
                summary.skipped_reasons[detail.get("reason", "?")] += 1
            for rule in detail.get("rules", []):
                summary.by_rule[f"{to_state} {rule}"] += 1
    return summary


def _outputs(config: Config, sandbox: Sandbox) -> dict[str, str]:
    return {
        "database": config.database_url,
        "letters (PDF + manifest.csv)": str(Path(config.file.letter.output_dir).resolve()),
        "emails (Maildir)": str((sandbox.dir / "mail").resolve()),
        "twilio requests": str((sandbox.dir / "twilio_requests.jsonl").resolve()),
    }
