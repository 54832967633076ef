"""Email end to end, side by side: outreach vs django-post-office into one counting SMTP sink.

    make bench-email                      # or, from the checkout:
    PYTHONPATH=. .venv/bin/python bench/email_peer.py [N] [--pairs 3] [--database-url URL]

Both tools send the same N templated text + HTML emails (outreach's email/second_reminder; the
peer gets the same text as a Django template, made by rendering outreach's template with
placeholders) to one aiosmtpd sink in its own process, which counts what it accepts. Runs
are interleaved (outreach, peer, outreach, peer, ...), each in a fresh process on a fresh
database, so both pay their start-up:

- outreach: import a portfolio CSV of N debtors, plan, then what `outreach worker --once`
  does (claim, comply, render, SMTP to the sink, record every outcome and event), with the
  shipped config in `smtp` mode and a simulated clock inside the contact window;
- django-post-office: `mail.send_many` of N emails with an `EmailTemplate` (rendered by
  Django's templates at queueing), then `send_queued` until the queue is empty (SMTP backend,
  LOG_LEVEL 2: a log row per send).

Printed per run: emails/s, CPU seconds per email (the child's getrusage), and the ratios
outreach/peer with min/median/max over the pairs; then the sink-bound ceiling (aiosmtplib
blasting N pre-built messages over 4 connections) and outreach's rate as a share of it.

django-post-office is installed only for this bench, into var/bench-peer-venv (created on
first use, or `make bench-peer-venv`); it is not a dependency of outreach. With
--database-url (PostgreSQL) outreach runs on that database and the peer on a sibling
database named `<name>_peer` (created when missing); the bench WIPES both (drop schema
public), so point it at scratch databases only.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PEER_VENV = ROOT / "var" / "bench-peer-venv"
PEER_PACKAGES = ["django-post-office==3.12.0", "psycopg[binary]"]
TEMPLATE = "email/second_reminder"
FROM = "Example Recovery <notices@example-recovery.test>"
NOW = "2026-12-01T18:00:00+00:00"  # 10:00 in Los Angeles, 13:00 in New York
STATES = ["NY", "IL", "CO", "CA", "TX", "WA"]
SECRET = "bench-secret-key-0123456789abcdef0123456789"


# The sink ----------------------------------------------------------------------------------


def _serve_sink(port: Any, count: Any, size: Any) -> None:
    """aiosmtpd on loopback accepting every message: counts, keeps nothing."""
    import asyncio

    from aiosmtpd.smtp import SMTP

    class Counting:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with count.get_lock():
                count.value += 1
                size.value += len(envelope.content)
            return "250 OK"

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(Counting(), hostname="sink.test", enable_SMTPUTF8=True),
            "127.0.0.1",
            0,
        )
        port.value = server.sockets[0].getsockname()[1]
        await server.serve_forever()

    asyncio.run(main())


class Sink:
    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._port = ctx.Value("i", 0)
        self._count = ctx.Value("q", 0)
        self._bytes = ctx.Value("q", 0)
        self._process = ctx.Process(target=_serve_sink, args=(self._port, self._count, self._bytes))
        self._process.start()
        while not self._port.value:
            time.sleep(0.05)
        self.port: int = self._port.value

    @property
    def count(self) -> int:
        return int(self._count.value)

    @property
    def bytes(self) -> int:
        return int(self._bytes.value)

    def cpu_seconds(self) -> float:
        """The sink process's user + system CPU so far (Linux /proc)."""
        assert self._process.pid is not None
        fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self._process.terminate()
        self._process.join()


# Shared content ----------------------------------------------------------------------------


def django_templates(path: Path) -> None:
    """Outreach's template rendered with placeholders, turned into Django template syntax:
    the peer renders the same text, with the same per-debtor values, with its own engine."""
    from dataclasses import replace
    from decimal import Decimal

    from outreach.config.loader import Config
    from outreach.render.context import Agency, sample_context
    from outreach.render.environment import Renderer, money

    config = Config(ROOT / "config")
    sample = sample_context("email")
    balance = Decimal("98765.43")
    ctx = replace(
        sample,
        debtor=replace(sample.debtor, first_name="@@first_name@@"),
        account=replace(
            sample.account,
            creditor="@@creditor@@",
            account_ref="@@account_ref@@",
            balance=balance,
        ),
        agency=Agency.from_settings(config.file.agency, state="NY"),
        links=replace(
            sample.links, pay="@@pay@@", dispute="@@dispute@@", unsubscribe="@@unsubscribe@@"
        ),
    )
    rendered = Renderer().render(TEMPLATE, ctx)

    def django(text: str | None) -> str:
        text = (text or "").replace(money(balance), "@@balance@@")
        return re.sub(r"@@(\w+)@@", r"{{ \1 }}", text)

    path.write_text(
        json.dumps(
            {
                "subject": django(rendered.subject),
                "text": django(rendered.text),
                "html": django(rendered.html),
            }
        )
    )


def portfolio_csv(path: Path, n: int) -> None:
    """N debtors with one open account and a consented email each."""
    with path.open("w", newline="") as fh:
        out: csv.DictWriter[str] | None = None
        for i in range(1, n + 1):
            state = STATES[i % len(STATES)]
            row = {
                "debtor_id": f"D{i:07d}",
                "first_name": "Alex",
                "last_name": f"Doe{i}",
                "language": "en",
                "account_id": f"A{i:07d}",
                "creditor": "Northwind Bank",
                "account_number": f"40001234{i:08d}",
                "balance": "250.00",
                "itemization_date": "2026-06-30",
                "itemization_amount": "250.00",
                "interest": "0",
                "fees": "0",
                "payments": "0",
                "credits": "0",
                "due_date": "2026-05-01",
                "days_past_due": "90",
                "account_state": state,
                "tags": "email",
                "email": f"b{i}@example.com",
                "email_type": "personal",
                "email_consent": "granted",
                "address1": f"{i} Main St",
                "city": "Town",
                "state": state,
                "zip": "10001",
            }
            if out is None:
                out = csv.DictWriter(fh, list(row))
                out.writeheader()
            out.writerow(row)


def outreach_config(directory: Path, port: int, pool: int | None = None) -> Path:
    """The shipped configuration in smtp mode pointed at the sink, with one email campaign."""
    config = directory / "config"
    shutil.copytree(ROOT / "config", config, ignore=shutil.ignore_patterns("sample", "campaigns"))
    toml = (config / "outreach.toml").read_text()
    toml = _set(toml, "email", "mode", '"smtp"')
    toml = _set(toml, "email", "port", str(port))
    if pool:
        toml = _set(toml, "email", "pool_size", str(pool))
    toml = _set(toml, "sms", "mode", '"twilio"')  # not sent; no stand-in started for it
    (config / "outreach.toml").write_text(toml)
    (config / "campaigns").mkdir()
    (config / "campaigns" / "bench.yaml").write_text(
        "name: bench\nsegment:\n  tags_any: [email]\nsteps:\n"
        f"  - {{id: reminder, day: 0, channel: email, template: {TEMPLATE},"
        " only_if: [email_on_file]}\n"
    )
    return config


def _set(toml: str, section: str, key: str, value: str) -> str:
    head = toml.index(f"\n[{section}]\n")
    end = toml.find("\n[", head + 1)
    end = len(toml) if end < 0 else end
    body, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", toml[head:end], count=1)
    assert n == 1, (section, key)
    return toml[:head] + body + toml[end:]


# The runs, each in its own process ---------------------------------------------------------


def _wipe_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def outreach_setup(config_dir: Path) -> None:
    from outreach.clock import SimulatedClock
    from outreach.config.loader import Config
    from outreach.runtime import Runtime

    url = os.environ["OUTREACH_DATABASE_URL"]
    if url.startswith("postgresql"):
        _wipe_postgres(url)
    from datetime import datetime

    runtime = Runtime(Config(config_dir), SimulatedClock(datetime.fromisoformat(NOW)))
    runtime.migrate()


def outreach_run(config_dir: Path, portfolio: Path) -> dict[str, Any]:
    import asyncio
    from datetime import datetime

    from outreach.cli.worker import _once  # exactly what `outreach worker --once` runs
    from outreach.clock import SimulatedClock
    from outreach.config.loader import Config
    from outreach.portfolio.importer import import_csv
    from outreach.runtime import Runtime

    config = Config(config_dir)
    config.validate_all()
    config.check_senders()
    runtime = Runtime(config, SimulatedClock(datetime.fromisoformat(NOW)))
    t0 = time.perf_counter()
    report = import_csv(runtime.factory, portfolio, clock=runtime.clock)
    # `outreach worker --concurrency`: default [scheduler.concurrency] email.
    concurrency = (
        int(os.environ["BENCH_CONCURRENCY"]) if "BENCH_CONCURRENCY" in os.environ else None
    )
    t1 = time.perf_counter()
    if profile := os.environ.get("BENCH_PROFILE"):  # cProfile sees one thread: run them inline
        import cProfile

        async def inline(func: Any, /, *args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

        asyncio.to_thread = inline
        with cProfile.Profile(time.process_time) as prof:
            result = asyncio.run(_once(runtime, ("email",), "bench", concurrency))
        prof.dump_stats(profile)
    else:
        result = asyncio.run(_once(runtime, ("email",), "bench", concurrency))
    t2 = time.perf_counter()
    assert report.created == report.rows, report
    return {"import_s": t1 - t0, "send_s": t2 - t1, **result}


def _django(url: str, port: int) -> None:
    import django
    from django.conf import settings

    if url.startswith("postgresql"):
        m = re.match(r"postgresql(?:\+\w+)?://([^@/]+)@([^:/]+):?(\d*)/(\w+)", url)
        assert m, url
        user, host, db_port, name = m.groups()
        database = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": user,
            "HOST": host,
            "PORT": db_port or "5432",
        }
    else:
        database = {"ENGINE": "django.db.backends.sqlite3", "NAME": url.removeprefix("sqlite:///")}
    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "post_office"],
        DATABASES={"default": database},
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
        POST_OFFICE={"LOG_LEVEL": 2},
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates"}],
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()


def peer_setup(url: str, port: int) -> None:
    if url.startswith("postgresql"):
        _wipe_postgres_psycopg(url)
    _django(url, port)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _wipe_postgres_psycopg(url: str) -> None:
    import psycopg

    with psycopg.connect(re.sub(r"^postgresql\+\w+", "postgresql", url), autocommit=True) as c:
        c.execute("DROP SCHEMA IF EXISTS public CASCADE")
        c.execute("CREATE SCHEMA public")


def peer_run(url: str, port: int, templates: Path, n: int) -> dict[str, Any]:
    import hashlib
    import hmac

    _django(url, port)
    from post_office import mail
    from post_office.models import Email, EmailTemplate

    t = json.loads(templates.read_text())
    template = EmailTemplate.objects.create(
        name="second_reminder", subject=t["subject"], content=t["text"], html_content=t["html"]
    )
    site = "https://pay.example-recovery.test"
    t0 = time.perf_counter()
    batch = []
    for i in range(1, n + 1):
        token = hmac.new(SECRET.encode(), f"d{i}".encode(), hashlib.sha256).hexdigest()[:22]
        unsubscribe = f"http://127.0.0.1:8000/u/{token}"
        batch.append(
            {
                "recipients": [f"b{i}@example.com"],
                "sender": FROM,
                "template": template,
                "context": {
                    "first_name": "Alex",
                    "creditor": "Northwind Bank",
                    "account_ref": f"****{i % 10000:04d}",
                    "balance": "$250.00",
                    "pay": f"{site}/p/{token}",
                    "dispute": f"{site}/d/{token}",
                    "unsubscribe": unsubscribe,
                },
                "headers": {
                    "List-Unsubscribe": f"<{unsubscribe}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
            }
        )
        if len(batch) == 1000:
            mail.send_many(batch)
            batch = []
    mail.send_many(batch)
    t1 = time.perf_counter()
    sent = failed = 0
    while True:
        s, f, _ = mail.send_queued()
        sent, failed = sent + s, failed + f
        if not s and not f:
            break
    t2 = time.perf_counter()
    left = Email.objects.exclude(status=0).count()  # STATUS.sent == 0
    return {"queue_s": t1 - t0, "send_s": t2 - t1, "sent": sent, "failed": failed, "left": left}


def blast(port: int, n: int, connections: int) -> dict[str, Any]:
    """N pre-built outreach-sized messages over `connections` aiosmtplib sessions."""
    import asyncio

    import aiosmtplib

    from outreach.channels.mime import MimeSkeleton

    t = json.loads((Path(os.environ["BENCH_TEMPLATES"])).read_text())
    skeleton = MimeSkeleton(FROM)
    messages = [
        skeleton.compose(
            to=f"b{i}@example.com",
            subject=t["subject"],
            text=t["text"],
            html=t["html"],
            outreach_id=i,
            unsubscribe_url="http://127.0.0.1:8000/u/0123456789abcdefghijkl",
        ).data
        for i in range(n)
    ]

    async def main() -> float:
        queue = list(reversed(messages))

        async def session() -> None:
            async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as smtp:
                while queue:
                    await smtp.sendmail("bounces@example-recovery.test", ["b@x.test"], queue.pop())

        start = time.perf_counter()
        await asyncio.gather(*(session() for _ in range(connections)))
        return time.perf_counter() - start

    return {"blast_s": asyncio.run(main())}


# The parent --------------------------------------------------------------------------------


def _child(python: Path, *args: str, env: dict[str, str] | None = None) -> tuple[Any, float, float]:
    """Run this script's role in a fresh process: (its JSON answer, wall s, CPU s)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [str(python), __file__, *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"{args[0]} failed:\n{done.stdout}\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = done.stdout.strip().splitlines()
    return (json.loads(lines[-1]) if lines else None), wall, cpu


def peer_python() -> Path:
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {PEER_VENV} with {', '.join(PEER_PACKAGES)} (bench only)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
    return python


def _peer_url(url: str) -> str:
    """The sibling database `<name>_peer` on the same server, created when missing."""
    from sqlalchemy import create_engine, text

    base, name = url.rsplit("/", 1)
    peer = f"{name}_peer"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.scalar(text("select 1 from pg_database where datname = :n"), {"n": peer}):
            conn.execute(text(f'CREATE DATABASE "{peer}"'))
    engine.dispose()
    return f"{base}/{peer}"


def _ceiling(me: Path, sink: Sink, n: int, connections: int, env: dict[str, str]) -> float:
    """The sink alone: aiosmtplib blasting N pre-built messages over `connections`."""
    start, sink_cpu = sink.count, sink.cpu_seconds()
    answer, _, cpu = _child(me, "_blast", str(sink.port), str(n), str(connections), env=env)
    got = sink.count - start
    rate = float(n / answer["blast_s"])
    print(
        f"sink ceiling: {rate:7.0f} emails/s  (aiosmtplib, {connections} connections, N "
        f"pre-built messages; sink {'ok' if got == n else f'GOT {got:,}'}; sink CPU "
        f"{(sink.cpu_seconds() - sink_cpu) / n * 1000:.2f} ms/email, client process "
        f"{cpu / n * 1000:.2f} ms/email incl. building)",
        flush=True,
    )
    return rate


def _spread(values: list[float]) -> str:
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"min {low:.2f}x  median {mid:.2f}x  max {high:.2f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=5000)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="PostgreSQL; default: SQLite files")
    parser.add_argument("--connections", type=int, default=4, help="for the sink ceiling")
    parser.add_argument(
        "--outreach-src",
        type=Path,
        default=ROOT,
        help="checkout whose outreach package runs (e.g. an older one, for before/after)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="outreach's sends in flight (`worker --concurrency`); default: the shipped config",
    )
    args = parser.parse_args()
    n = args.n
    peer = peer_python()
    me = Path(sys.executable)
    tmp = Path(tempfile.mkdtemp(prefix="bench-email-"))
    sink = Sink()
    try:
        templates = tmp / "templates.json"
        django_templates(templates)
        portfolio = tmp / "portfolio.csv"
        portfolio_csv(portfolio, n)
        config = outreach_config(tmp, sink.port, args.concurrency)
        env = {
            "OUTREACH_SECRET_KEY": SECRET,
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_AUTH_TOKEN": "0" * 32,
            "BENCH_TEMPLATES": str(templates),
        }
        peer_url = _peer_url(args.database_url) if args.database_url else ""
        print(f"N = {n:,} emails ({TEMPLATE}, text + HTML), {args.pairs} interleaved pairs")
        where = "PostgreSQL" if args.database_url else "SQLite (a fresh file each run)"
        print(f"database: {where}")
        print(f"sink: aiosmtpd on 127.0.0.1:{sink.port}, own process\n")
        before = _ceiling(me, sink, n, args.connections, env)
        rows: list[tuple[str, float, float]] = []
        for pair in range(args.pairs):
            for tool in ("outreach", "peer"):
                url = args.database_url or f"sqlite:///{tmp / f'{tool}{pair}.db'}"
                if tool == "outreach":
                    run_env = {
                        **env,
                        "OUTREACH_DATABASE_URL": url,
                        "PYTHONPATH": f"{args.outreach_src.resolve()}:{ROOT}",
                    }
                    if args.concurrency:
                        run_env["BENCH_CONCURRENCY"] = str(args.concurrency)
                    _child(me, "_outreach_setup", str(config), env=run_env)
                    start, size = sink.count, sink.bytes
                    answer, wall, cpu = _child(
                        me, "_outreach", str(config), str(portfolio), env=run_env
                    )
                else:
                    url = peer_url or url
                    _child(peer, "_peer_setup", url, str(sink.port))
                    start, size = sink.count, sink.bytes
                    answer, wall, cpu = _child(
                        peer, "_peer", url, str(sink.port), str(templates), str(n)
                    )
                got = sink.count - start
                status = "ok" if got == n else f"SINK GOT {got:,} != {n:,}"
                status += f", {(sink.bytes - size) / max(got, 1):,.0f} B/email"
                rows.append((tool, wall, cpu))
                phases = ", ".join(
                    f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                    for k, v in answer.items()
                )
                print(
                    f"pair {pair + 1} {tool:9s} {n / wall:7.0f} emails/s  "
                    f"{cpu / n * 1000:5.2f} ms CPU/email  wall {wall:6.2f}s  sink {status}  "
                    f"({phases})",
                    flush=True,
                )
        ours = [r for r in rows if r[0] == "outreach"]
        theirs = [r for r in rows if r[0] == "peer"]
        rate_ratio = [(n / o[1]) / (n / p[1]) for o, p in zip(ours, theirs, strict=True)]
        cpu_ratio = [o[2] / p[2] for o, p in zip(ours, theirs, strict=True)]
        print(f"\nrate  outreach/peer: {_spread(rate_ratio)}  (target >= 2x)")
        print(f"CPU   outreach/peer: {_spread(cpu_ratio)}  (per email; lower is better)")
        print(
            "outreach CPU per email: median "
            f"{statistics.median(o[2] / n * 1000 for o in ours):.2f} ms  (target <= 2 ms)"
        )

        after = _ceiling(me, sink, n, args.connections, env)
        ceiling = max(before, after)
        best = max(n / o[1] for o in ours)
        median = statistics.median(n / o[1] for o in ours)
        print(
            f"outreach vs ceiling ({ceiling:.0f}/s, the better of before and after): "
            f"median {median / ceiling:.0%}, best {best / ceiling:.0%}  (target >= 80%)"
        )
        sys.path.insert(0, str(ROOT))
        from bench.record import record

        db = "postgresql" if args.database_url else "sqlite"
        peer_rate = statistics.median(n / p[1] for p in theirs)
        command = "python bench/email_peer.py" + (
            " --database-url URL" if args.database_url else ""
        )
        record(
            f"email end to end ({db})",
            median,
            "emails/s",
            peer=peer_rate,
            peer_name="django-post-office",
            target=2 * peer_rate,
            command=command,
        )
        record(
            f"email vs sink ceiling ({db})",
            100 * median / ceiling,
            "% of ceiling",
            target=80,
            command=command,
        )
        record(
            f"email CPU per message ({db})",
            statistics.median(o[2] / n * 1000 for o in ours),
            "ms",
            higher_is_better=False,
            peer=statistics.median(p[2] / n * 1000 for p in theirs),
            peer_name="django-post-office",
            target=2.0,
            command=command,
        )
    finally:
        sink.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _role() -> None:
    role, *rest = sys.argv[1:]
    answer: Any = None
    if role == "_outreach_setup":
        outreach_setup(Path(rest[0]))
    elif role == "_outreach":
        answer = outreach_run(Path(rest[0]), Path(rest[1]))
    elif role == "_peer_setup":
        peer_setup(rest[0], int(rest[1]))
    elif role == "_peer":
        answer = peer_run(rest[0], int(rest[1]), Path(rest[2]), int(rest[3]))
    elif role == "_blast":
        answer = blast(int(rest[0]), int(rest[1]), int(rest[2]))
    print(json.dumps(answer))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1].startswith("_"):
        _role()
    else:
        main()
