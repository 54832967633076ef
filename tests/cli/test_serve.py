"""`outreach serve`'s app: its lifespan runs the APScheduler jobs, which plan and dispatch on their
own through the sandbox the same server hosts; /metrics reports the log's states. `serve
--no-worker` and `run --once` as real processes."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import Engine, func, select

from outreach.actions.messages import plan_message
from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from outreach.db.engine import make_engine, session_factory, upgrade
from outreach.db.models import Enrollment, Message
from outreach.runtime import Runtime
from outreach.sandbox.server import running_server
from outreach.web.app import create_app
from tests.cli.conftest import invoke
from tests.conftest import free_port
from tests.factories import add_debtor
from tests.processes import (
    outreach_command,
    outreach_env,
    point_at,
    run_outreach,
    sandbox_process,
)


async def test_scheduler_in_the_served_app_plans_and_sends_by_itself(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    config.file = config.file.model_copy(
        update={"sandbox": config.file.sandbox.model_copy(update={"smtp_port": 0})}
    )
    runtime = Runtime(config, clock, engine=engine)
    add_debtor(runtime.factory, clock.now(), phones=[("+12127363100", "mobile")])
    port = free_port()
    app = create_app(runtime, self_url=f"http://127.0.0.1:{port}")
    async with running_server(app, port=port) as base_url:
        for _ in range(100):  # the jobs run at start-up; wait for the day-0 letter
            with runtime.factory() as session:
                states = list(session.scalars(select(Message.state)))
            if states == ["sent"]:
                break
            await asyncio.sleep(0.1)
        assert states == ["sent"]
        async with httpx.AsyncClient() as client:
            metrics = (await client.get(f"{base_url}/metrics")).text
        assert 'outreach_messages_by_state{state="sent"} 1.0' in metrics.splitlines()


def any_time_no_caps(config_dir: Path) -> None:
    """Policy for tests on the system clock: any hour is in the window, no cap holds a send."""
    path = config_dir / "policy.yaml"
    policy = yaml.safe_load(path.read_text())
    policy["contact_window"]["channels"] = {"sms": None, "email": None, "letter": None}
    policy["frequency_caps"] = []
    path.write_text(yaml.safe_dump(policy))


def plan_sms_and_email(db_url: str) -> None:
    engine = make_engine(db_url)
    factory = session_factory(engine)
    now = datetime.now(UTC)
    debtor_id, account_id = add_debtor(factory, now)
    with factory.begin() as session:
        for channel, template in (("sms", "sms/reminder"), ("email", "email/first_reminder")):
            plan_message(
                session,
                now,
                debtor_id=debtor_id,
                account_id=account_id,
                channel=channel,
                template=template,
                kind="collection",
                step_id=f"manual-{channel}",
                due_at=now,
                cause="test",
            )
    engine.dispose()


def test_run_once_in_provider_modes_sends_to_the_providers_and_opens_no_stand_in(
    config_dir: Path, db_url: str, tmp_path: Path
) -> None:
    """`[sms] mode = "twilio"` with base_url and `[email] mode = "smtp"`, both answered by an
    `outreach sandbox` process: the sends reach it, and run --once starts no sandbox of its own."""
    migrated = run_outreach(config_dir, "migrate", env=outreach_env(OUTREACH_DATABASE_URL=db_url))
    assert migrated.returncode == 0, migrated.stderr
    any_time_no_caps(config_dir)
    plan_sms_and_email(db_url)
    worker = tmp_path / "worker"
    worker.mkdir()
    with sandbox_process(tmp_path / "providers") as providers:
        point_at(config_dir, providers)
        done = run_outreach(
            config_dir, "run", "--once", env=providers.worker_env(db_url), cwd=worker
        )
        assert done.returncode == 0, done.stderr
        assert [r["form"]["To"] for r in providers.sms_requests()] == ["+12125550143"]
        [mail] = providers.mail()
        assert b"X-RcptTo: maria@example.com" in mail
    assert not (worker / "var" / "sandbox").exists()  # no catcher, no Twilio stand-in


@pytest.mark.parametrize("flag", ["--no-worker", "--no-scheduler"])
def test_serve_without_worker_serves_the_web_app_and_plans_nothing(
    config_dir: Path, db_url: str, flag: str
) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    add_debtor(session_factory(engine), datetime.now(UTC))  # the planner would enroll it
    port = free_port()
    env = outreach_env(OUTREACH_DATABASE_URL=db_url)
    server = subprocess.Popen(
        outreach_command(config_dir, "serve", "--port", str(port), flag),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                health = httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert health.status_code == 200
        faults = httpx.get(f"{base}/sandbox/faults", timeout=5).json()
        assert set(faults) == {"twilio", "smtp"}  # sandbox mode: the stand-ins' admin
        time.sleep(1.5)  # a worker plans at start-up: it would have enrolled the debtor by now
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(Enrollment)).scalar() == 0
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=20)
        engine.dispose()
    assert ("deprecated: use --no-worker" in err) == (flag == "--no-scheduler")


def test_serve_help_offers_no_worker_and_hides_the_old_flag(config_dir: Path) -> None:
    code, out, _ = invoke(config_dir, "serve", "--help")
    assert code == 0 and "--no-worker" in out and "--no-scheduler" not in out


@pytest.mark.parametrize("trust", [False, True])
def test_serve_gives_uvicorn_the_proxy_settings(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch, restore_logging: None, trust: bool
) -> None:
    """uvicorn's own default believes X-Forwarded-For from loopback: serve turns it off unless
    `web.trust_proxy`, and then believes only `web.proxy_addresses`."""
    import uvicorn

    toml = config_dir / "outreach.toml"
    toml.write_text(
        toml.read_text().replace(
            'trust_proxy = false\nproxy_addresses = ["127.0.0.1", "::1"]',
            f'trust_proxy = {str(trust).lower()}\nproxy_addresses = ["10.0.0.0/8"]',
        )
    )
    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: seen.update(kwargs))
    assert invoke(config_dir, "migrate")[0] == 0
    code, _, err = invoke(config_dir, "serve", "--no-worker")
    assert code == 0, err
    assert seen["proxy_headers"] is trust
    assert seen["forwarded_allow_ips"] == (["10.0.0.0/8"] if trust else [])
