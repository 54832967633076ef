"""`outreach sandbox` as a real process: the stand-ins other processes send to, what they keep
on disk, `outreach sandbox fault`, and a clean stop on SIGTERM."""

from __future__ import annotations

import email
import json
import socket
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from outreach.config.settings import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN
from tests.conftest import free_port
from tests.processes import SandboxProcess, run_outreach, sandbox_process

pytestmark = pytest.mark.filterwarnings("ignore:.*encode_basic_auth:DeprecationWarning")


def twilio_client(sandbox: SandboxProcess) -> Client:
    client = Client(SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN)  # the synchronous client
    client.api.base_url = sandbox.sms_base_url
    return client


def send_sms(sandbox: SandboxProcess, body: str = "Hi") -> str:
    created = twilio_client(sandbox).messages.create(
        to="+14155550123", from_="+15005550006", body=body
    )
    return str(created.sid)


async def test_serves_twilio_and_smtp_keeps_both_on_disk_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    with sandbox_process(tmp_path / "stand-ins") as sandbox:
        assert sandbox.lines["faults"] == sandbox.http_url + "/sandbox/faults"
        sid = send_sms(sandbox, "Your statement is ready")
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "a@example.test", "b@example.test", "Notice"
        msg.set_content("body")
        await aiosmtplib.send(msg, hostname="127.0.0.1", port=sandbox.smtp_port)
        fetched = twilio_client(sandbox).messages(sid).fetch()
        assert fetched.body == "Your statement is ready"

        assert sandbox.stop() == 0  # SIGTERM
        assert sandbox.output[-1] == "stopped\n"
    [request] = sandbox.sms_requests()
    assert request["sid"] == sid and request["form"]["Body"] == "Your statement is ready"
    assert Path(sandbox.lines["requests"]) == tmp_path / "stand-ins" / "twilio_requests.jsonl"
    [mail] = sandbox.mail()
    assert email.message_from_bytes(mail)["Subject"] == "Notice"
    for port in (sandbox.smtp_port, int(sandbox.http_url.rsplit(":", 1)[1])):
        with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
            pass


def test_fault_commands_drive_the_running_sandbox(tmp_path: Path) -> None:
    with sandbox_process(tmp_path / "stand-ins") as sandbox:
        url = ["--url", sandbox.http_url]
        done = run_outreach(
            None, "sandbox", "fault", *url, "fail-next", "twilio", "-n", "2", "--status", "429",
            "--code", "20429", "--retry-after", "3",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        [pending] = json.loads(done.stdout)["pending_failures"]
        assert (pending["n"], pending["status"], pending["retry_after"]) == (2, 429, 3)
        for _ in range(2):
            with pytest.raises(TwilioRestException) as refused:
                send_sms(sandbox)
            assert (refused.value.status, refused.value.code) == (429, 20429)
        send_sms(sandbox)

        done = run_outreach(None, "sandbox", "fault", *url, "fail-next", "smtp", "--code", "550")
        assert done.returncode == 0, done.stderr
        state = json.loads(run_outreach(None, "sandbox", "fault", *url, "state").stdout)
        assert (state["twilio"]["accepted"], state["twilio"]["refused"]) == (1, 2)
        assert state["smtp"]["pending_failures"][0]["status"] == 550
        cleared = json.loads(run_outreach(None, "sandbox", "fault", *url, "clear").stdout)
        assert cleared["smtp"]["pending_failures"] == []

        bad = run_outreach(None, "sandbox", "fault", *url, "fail-next", "twilio", "--status", "200")
        assert bad.returncode == 2 and "status" in bad.stderr and "Traceback" not in bad.stderr
    assert len(sandbox.sms_requests()) == 1


def test_fault_against_no_sandbox_is_one_line_exit_1() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = run_outreach(None, "sandbox", "fault", "--url", url, "state")
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: {url}/sandbox/faults: ")
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_port_in_use_is_one_line_exit_1(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        done = run_outreach(
            None, "sandbox", "--port", port, "--smtp-port", "0", "--dir", str(tmp_path)
        )
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: cannot listen on 127.0.0.1 (HTTP port {port}, ")
    assert len(done.stderr.strip().splitlines()) == 1
