"""Real `outreach worker` processes against stand-in providers on loopback, for the tests of
what a crash, a deploy or a provider outage does to the messages.

The stand-ins (the Twilio-compatible API with its fault injection, the SMTP catcher) run in
the test's event loop and count every delivery; the workers are separate processes started
with `python -m outreach.cli.main worker`, in `twilio` and `smtp` mode pointed at the
stand-ins, exactly as a deployment points at Twilio and a relay. Debtors are seeded in bulk;
the workers' own planner plans one day-0 step each (SMS or email).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import yaml
from fastapi import FastAPI
from sqlalchemy import Engine, func, insert, select

from outreach.config.settings import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN
from outreach.db.casework import AuditEvent
from outreach.db.engine import make_engine, upgrade
from outreach.db.models import Account, ContactPoint, Debtor, Message, MessageEvent
from outreach.sandbox.admin import FAULTS_PREFIX, faults_router
from outreach.sandbox.server import running_server
from outreach.sandbox.smtp_catcher import SmtpCatcher
from outreach.sandbox.twilio_api import TwilioSandboxStore, twilio_sandbox_router
from tests.conftest import CONFIG_DIR

ROOT = Path(__file__).resolve().parent.parent
FROM = "+15005550006"
UNSETTLED = ("planned", "deferred", "claimed", "ready", "sending")

CAMPAIGNS = {
    "sms": {"id": "one", "day": 0, "channel": "sms", "template": "sms/reminder"},
    "email": {"id": "one", "day": 0, "channel": "email", "template": "email/second_reminder"},
}


@dataclass
class Site:
    dir: Path
    config_dir: Path
    db_url: str
    engine: Engine
    twilio: TwilioSandboxStore
    smtp: SmtpCatcher
    stand_in_url: str
    workers: dict[str, asyncio.subprocess.Process] = field(default_factory=dict)
    kills: int = 0
    lives: Counter[str] = field(default_factory=Counter)

    # --- workers ----------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "OUTREACH_DATABASE_URL": self.db_url,
            "TWILIO_ACCOUNT_SID": SANDBOX_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": SANDBOX_AUTH_TOKEN,
            "OUTREACH_SECRET_KEY": "worker-tests-secret-of-32-characters",
            "PYTHONPATH": str(ROOT),
        }

    async def start(self, name: str, *args: str) -> asyncio.subprocess.Process:
        """Start worker `name` again; each life gets its own worker id (`name.N`), as a
        restarted process does (host-pid), so a dead life's leases are told apart."""
        self.lives[name] += 1
        log = (self.dir / f"{name}.log").open("ab")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "from outreach.cli.main import main; main()",
            "--config-dir",
            str(self.config_dir),
            "worker",
            "--worker-id",
            self.worker_id(name),
            *args,
            env=self.env(),
            stdout=log,
            stderr=log,
            cwd=self.dir,
        )
        log.close()
        self.workers[name] = process
        return process

    def worker_id(self, name: str) -> str:
        return f"{name}.{self.lives[name]}"

    def kill(self, name: str) -> None:
        self.workers[name].send_signal(signal.SIGKILL)
        self.kills += 1

    async def stop_all(self, sig: int = signal.SIGTERM, timeout: float = 30) -> dict[str, int]:
        """Signal every live worker; wait for each to exit; their exit codes."""
        for process in self.workers.values():
            if process.returncode is None:
                process.send_signal(sig)
        codes = {}
        for name, process in self.workers.items():
            codes[name] = await asyncio.wait_for(process.wait(), timeout)
        return codes

    def log(self, name: str) -> str:
        return (self.dir / f"{name}.log").read_text(errors="replace")

    async def fault(self, path: str, **body: Any) -> None:
        """POST to the stand-ins' faults admin, e.g. fault("twilio/storm", seconds=5)."""
        async with httpx.AsyncClient(base_url=self.stand_in_url + FAULTS_PREFIX) as client:
            (await client.post("/" + path, json=body)).raise_for_status()

    def audit(self, prefix: str) -> list[Any]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(AuditEvent.at, AuditEvent.action, AuditEvent.subject)
                    .where(AuditEvent.action.startswith(prefix))
                    .order_by(AuditEvent.id)
                )
            )

    # --- what happened -------------------------------------------------------------------

    def states(self) -> Counter[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(Message.state, func.count()).group_by(Message.state))
            return Counter({state: n for state, n in rows})

    def messages(self) -> list[Any]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(
                        Message.id,
                        Message.channel,
                        Message.state,
                        Message.to_address,
                        Message.provider_id,
                        Message.error_code,
                        Message.lease_owner,
                    ).order_by(Message.id)
                )
            )

    def sending(self, name: str) -> int:
        """The messages the worker's current life has in a channel call (`sending`)."""
        with self.engine.connect() as conn:
            return int(
                conn.scalar(
                    select(func.count()).where(
                        Message.lease_owner == self.worker_id(name), Message.state == "sending"
                    )
                )
                or 0
            )

    def sent_by(self) -> Counter[str]:
        """Which worker committed each send (from the message events' causes)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(MessageEvent.cause, func.count())
                .where(MessageEvent.to_state == "sending")
                .group_by(MessageEvent.cause)
            )
            return Counter(
                {cause.removeprefix("dispatcher:").split(".")[0]: n for cause, n in rows}
            )

    def deliveries(self) -> Counter[str]:
        """How many times each message reached its provider, by message id (as str)."""
        got: Counter[str] = Counter()
        by_phone = {m.to_address: str(m.id) for m in self.messages() if m.channel == "sms"}
        for request in self.twilio.requests:
            got[by_phone.get(request["form"].get("To"), "?" + request["form"].get("To", ""))] += 1
        for mail in self.smtp.messages():
            got[str(mail["X-Outreach-Message-Id"])] += 1
        return got

    async def wait_for(self, condition: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met in {timeout}s: {dict(self.states())}")
            await asyncio.sleep(0.05)

    async def settled(self, expected: int, timeout: float) -> Counter[str]:
        """Wait until `expected` messages exist and none is on its way any more."""
        deadline = time.monotonic() + timeout
        while True:
            states = self.states()
            if sum(states.values()) >= expected and not any(states[s] for s in UNSETTLED):
                return states
            exited = [n for n, p in self.workers.items() if p.returncode not in (None, -9)]
            if time.monotonic() > deadline or exited:
                logs = "\n".join(f"--- {n}\n{self.log(n)[-3000:]}" for n in self.workers)
                logs += "\n" + "\n".join(str(tuple(m)) for m in self.messages()[:5])
                raise AssertionError(f"not settled after {timeout}s: {dict(states)}\n{logs}")
            await asyncio.sleep(0.25)


def seed(engine: Engine, sms: int, email: int, first_id: int = 1) -> None:
    """Debtors with one account each, tagged for the SMS or the email campaign; ids from
    `first_id` (seed again with the next free id to add more)."""
    now = datetime.now(UTC)
    n = sms + email
    ids = range(first_id, first_id + n)
    with engine.begin() as conn:
        conn.execute(
            insert(Debtor),
            [
                {
                    "id": i,
                    "external_id": f"W{i}",
                    "first_name": "Alex",
                    "last_name": f"Doe{i}",
                    "language": "en",
                    "created_at": now,
                }
                for i in ids
            ],
        )
        conn.execute(
            insert(Account),
            [
                {
                    "id": i,
                    "external_id": f"WA{i}",
                    "debtor_id": i,
                    "creditor": "Northwind Bank",
                    "account_number": f"40001234{i:08d}",
                    "balance": Decimal("250.00"),
                    "itemization": {"date": "2026-06-30", "amount": "250.00"},
                    "days_past_due": 90,
                    "state": "NY",
                    "status": "open",
                    "time_barred": False,
                    "tags": ["sms" if i < first_id + sms else "email"],
                    "created_at": now,
                }
                for i in ids
            ],
        )
        conn.execute(
            insert(ContactPoint),
            [
                point
                for i in ids
                for point in (
                    {
                        "debtor_id": i,
                        "kind": "phone",
                        "value": f"+1212{2_000_000 + i}",  # one number per debtor
                        "label": "mobile",
                        "consent": "granted",
                        "source": "test",
                        "created_at": now,
                    },
                    {
                        "debtor_id": i,
                        "kind": "email",
                        "value": f"w{i}@example.com",
                        "label": "personal",
                        "consent": "granted",
                        "source": "test",
                        "created_at": now,
                    },
                )
            ],
        )


def _settings(
    dir: Path, twilio_url: str, smtp_port: int, overrides: Mapping[str, Mapping[str, Any]]
) -> str:
    sections: dict[str, dict[str, Any]] = {
        "sms": {
            "mode": "twilio",
            "base_url": twilio_url,
            "from_number": FROM,
            "status_callback": False,
            "max_per_second": 1000,
            "timeout_seconds": 5,
        },
        "email": {"mode": "smtp", "host": "127.0.0.1", "port": smtp_port, "pool_size": 4},
        "letter": {"output_dir": str(dir / "letters")},
        "sandbox": {"dir": str(dir / "sandbox")},
        "scheduler": {
            "planner_seconds": 2,
            "dispatcher_seconds": 0.5,
            "batch_size": 50,
            "lease_seconds": 10,
            "heartbeat_seconds": 2,
            "drain_seconds": 5,
            "retry_base_seconds": 1,
            "retry_max_seconds": 2,
            "concurrency": {"sms": 4, "email": 4, "letter": 1},
        },
        "inbound": {"bounce_maildir": None},
        "agency.licenses": {"CA": "California Debt Collection License 10000-99"},
    }
    for name, values in overrides.items():
        sections.setdefault(name, {}).update(values)
    lines = ['public_url = "http://127.0.0.1:9"']
    for name, values in sections.items():
        lines.append(f"[{name}]")
        for key, value in values.items():
            if value is None:
                continue
            if isinstance(value, dict):
                inner = ", ".join(f"{k} = {v!r}" for k, v in value.items())
                lines.append(f"{key} = {{ {inner} }}")
            elif isinstance(value, bool):
                lines.append(f"{key} = {'true' if value else 'false'}")
            elif isinstance(value, str):
                lines.append(f'{key} = "{value}"')
            else:
                lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


@asynccontextmanager
async def site(tmp_path: Path, db_url: str, **overrides: Mapping[str, Any]) -> AsyncIterator[Site]:
    """Stand-ins up, a configuration pointing at them, the schema migrated."""
    store = TwilioSandboxStore(tmp_path / "twilio")
    app = FastAPI()
    app.include_router(twilio_sandbox_router(store))
    catcher = SmtpCatcher(tmp_path / "mail", port=0)
    # Faults over HTTP, as an operator rehearsing an outage drives them.
    app.include_router(faults_router({"twilio": store.faults, "smtp": catcher.faults}))
    catcher.start()
    config_dir = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config_dir, ignore=shutil.ignore_patterns("sample"))
    for old in (config_dir / "campaigns").iterdir():
        old.unlink()
    for name, step in CAMPAIGNS.items():
        campaign = {"name": name, "segment": {"tags_any": [name]}, "steps": [step]}
        (config_dir / "campaigns" / f"{name}.yaml").write_text(yaml.safe_dump(campaign))
    policy = yaml.safe_load((config_dir / "policy.yaml").read_text())
    # Any hour of the day: these tests run whenever CI does; the hours rules have their own.
    policy["contact_window"]["channels"] = {"letter": None, "sms": None, "email": None}
    (config_dir / "policy.yaml").write_text(yaml.safe_dump(policy))
    engine = make_engine(db_url)
    upgrade(engine)
    workers: Site | None = None
    try:
        async with running_server(app) as url:
            (config_dir / "outreach.toml").write_text(
                _settings(tmp_path, url, catcher.port, overrides)
            )
            workers = Site(tmp_path, config_dir, db_url, engine, store, catcher, url)
            yield workers
    finally:
        if workers is not None:
            for process in workers.workers.values():
                if process.returncode is None:
                    process.kill()
                    await process.wait()
        catcher.stop()
        engine.dispose()
