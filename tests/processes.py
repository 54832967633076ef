"""Real `outreach` processes for tests: run a command to its end, or keep `outreach sandbox`
running and point a configuration folder at it the way a deployment points workers at a
provider (`[sms] mode = "twilio"` + `base_url`, `[email] mode = "smtp"` + the catcher's port).

    with sandbox_process(tmp_path / "stand-ins") as sandbox:
        point_at(config_dir, sandbox)
        run_outreach(config_dir, "run", "--once", env=sandbox.worker_env(db_url))
        assert len(sandbox.sms_requests()) == 1
"""

from __future__ import annotations

import json
import mailbox
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from outreach.config.settings import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN
from outreach.sandbox.control import SandboxControl

ROOT = Path(__file__).resolve().parent.parent


def outreach_env(**extra: str) -> dict[str, str]:
    """The test's environment with this checkout importable, plus `extra`."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.update(extra)
    return env


def outreach_command(config_dir: Path | None, *args: str) -> list[str]:
    root = ["--config-dir", str(config_dir)] if config_dir is not None else []
    return [sys.executable, "-m", "outreach.cli.main", *root, *args]


def run_outreach(
    config_dir: Path | None,
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`outreach ARGS` as a process, to its end; stdout and stderr captured as text."""
    return subprocess.run(
        outreach_command(config_dir, *args),
        env=env or outreach_env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class SandboxProcess:
    process: subprocess.Popen[str]
    lines: dict[str, str]  # what it printed at start: twilio, faults, smtp, requests, mail
    output: list[str]  # every line of its stdout so far (a reader thread appends)
    reader: threading.Thread

    @property
    def sms_base_url(self) -> str:
        return self.lines["twilio"].split()[0]

    @property
    def http_url(self) -> str:
        return self.sms_base_url.removesuffix("/sandbox/twilio")

    @property
    def smtp_port(self) -> int:
        return int(self.lines["smtp"].rsplit(":", 1)[1])

    def control(self) -> SandboxControl:
        return SandboxControl(self.http_url)

    def stop(self, timeout: float = 15) -> int:
        """SIGTERM, then wait for the exit (killed after `timeout`); the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.reader.join(timeout=5)
        return self.process.returncode

    def sms_requests(self) -> list[dict[str, Any]]:
        """Every create the Twilio stand-in accepted, from its JSON lines file."""
        path = Path(self.lines["requests"])
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line]

    def mail(self) -> list[bytes]:
        """Every message the SMTP catcher stored (bounce reports included)."""
        path = Path(self.lines["mail"])
        if not path.exists():
            return []
        box = mailbox.Maildir(path, factory=None, create=False)
        return [box.get_bytes(key) for key in box.keys()]  # noqa: SIM118 - iter() gives messages

    def worker_env(self, db_url: str, **extra: str) -> dict[str, str]:
        """What a worker pointed at this sandbox needs: its credentials and a secret key."""
        return outreach_env(
            OUTREACH_DATABASE_URL=db_url,
            TWILIO_ACCOUNT_SID=SANDBOX_ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=SANDBOX_AUTH_TOKEN,
            OUTREACH_SECRET_KEY="a-test-secret-key-that-is-long-enough",
            **extra,
        )


@contextmanager
def sandbox_process(
    directory: Path, *args: str, startup_timeout: float = 30
) -> Iterator[SandboxProcess]:
    """`outreach sandbox --port 0 --smtp-port 0 --dir DIRECTORY` until the block ends (SIGTERM)."""
    process = subprocess.Popen(
        outreach_command(
            None, "sandbox", "--port", "0", "--smtp-port", "0", "--dir", str(directory), *args
        ),
        env=outreach_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    output: list[str] = []
    started: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            started.put(line)
        started.put(None)  # end of output

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    sandbox = SandboxProcess(process, {}, output, reader)
    try:
        _wait_until_ready(sandbox, started, startup_timeout)
        yield sandbox
    finally:
        sandbox.stop()


def _wait_until_ready(
    sandbox: SandboxProcess, started: queue.Queue[str | None], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = started.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            break
        if line.startswith("ready"):
            return
        name, sep, value = line.strip().partition(": ")
        if sep:
            sandbox.lines[name] = value
    sandbox.process.kill()
    _, err = sandbox.process.communicate()
    raise RuntimeError(f"outreach sandbox did not start: {sandbox.lines} {err}")


def set_toml(path: Path, section: str, **values: str | int | float | bool) -> None:
    """Set keys of one `[section]` of a TOML file (the shipped outreach.toml has them all)."""
    text = path.read_text()
    header = re.search(rf"^\[{re.escape(section)}\]\n", text, flags=re.M)
    if header is None:
        text += f"\n[{section}]\n"
        header = re.search(rf"^\[{re.escape(section)}\]\n", text, flags=re.M)
        assert header is not None
    end = re.search(r"^\[", text[header.end() :], flags=re.M)
    body_end = header.end() + (end.start() if end else len(text) - header.end())
    body = text[header.end() : body_end]
    for key, value in values.items():
        line = f"{key} = {json.dumps(value)}"  # JSON strings, numbers and booleans are TOML
        body, n = re.subn(rf"^#?\s*{re.escape(key)}\s*=.*$", line, body, count=1, flags=re.M)
        if n == 0:
            body = line + "\n" + body
    path.write_text(text[: header.end()] + body + text[body_end:])


def point_at(config_dir: Path, sandbox: SandboxProcess) -> None:
    """Configure real-provider modes whose providers are this sandbox's stand-ins."""
    toml = config_dir / "outreach.toml"
    set_toml(toml, "sms", mode="twilio", base_url=sandbox.sms_base_url)
    set_toml(toml, "email", mode="smtp", host="127.0.0.1", port=sandbox.smtp_port)
