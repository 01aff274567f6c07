"""Linli benchmark: a synthetic district, the app under gunicorn (2 workers), every target of issue 16.

    python benchmarks/run.py                  # 130,000 elders, SQLite and PostgreSQL, every row
    python benchmarks/run.py --quick          # 5,000 elders, fewer requests, no load minute or restart (CI)
    python benchmarks/run.py --growth 65000,130000,260000 --backends postgresql
    python benchmarks/run.py --report         # tables, table.md and the plot from benchmarks/results/*.json
    python benchmarks/run.py --quick --backends sqlite --baseline benchmarks/results/quick-sqlite.json

Each database gets a table of the issue's targets, each row "holds", "does not hold" or "not measured:
why". Page figures are ratios to /healthz's p50 in the same run: this machine is shared, so absolute
milliseconds move with whatever else runs; ratios move much less.

PostgreSQL: the database named by --pg-db is dropped and created on the server of --pg-admin-url
(unless --reuse finds it seeded); rows that need an empty database of their own (SOS, outbox, load)
get scratch databases `<pg-db>_sos` and so on, dropped afterwards; the restart scenario starts a
throwaway cluster of its own (benchmarks/load.py). Logins go through the real flow (phone → code →
password): the code leaves through the outbox and a `linli sender` process to a fake Twilio on
loopback (tests/channels/fake_twilio.py), where it is read. Nothing in the app is weakened.

Adding a row: one Target in TARGETS (what, target, a function from one database's result to
(measured, verdict)); a page is one Page in PAGES, a job one Job in JOBS, a row on a scratch
database one function in EXTRAS.
"""
from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_figures import (  # noqa: E402
    FAILS,
    HOLDS,
    WARN_FACTOR,
    baseline_warnings,
    growth_flag,
    markdown_table,
    per_doubling,
    verdict,
)

RESULTS = ROOT / "benchmarks" / "results"
VENV_BIN = ROOT / ".venv" / "bin"
DATA = ROOT / "benchmarks" / ".data"
PASSWORD = "benchmark-password-2026"
PHONES = {"elder": None, "worker": "+8613900000091", "officer": "+8613900000092"}


@dataclass
class Context:
    """Ids the page URLs are built from (filled by prepare_accounts)."""

    community_id: int = 0
    community_elders: int = 0
    elder_id: int = 0
    request_reference: str = ""
    statement: str = ""
    phones: dict = field(default_factory=dict)


@dataclass
class Page:
    name: str
    role: str | None                  # who is logged in (None: anonymous)
    url: Callable[[Context], str]
    scope: str = "person"             # what it serves: "trivial", "person", "community", "district" (growth)
    prime: str | None = None          # requested once before (e.g. starts the request conversation)


HEALTHZ = "/healthz (trivial)"
COMPLETION = "completion list (largest community)"
OFFICER_DASHBOARD = "officer visits dashboard"
WEBHOOK = "SMS webhook, provider answering in 2 s"
PAGES = [
    Page(HEALTHZ, None, lambda c: "/healthz", "trivial"),
    Page("elder home", "elder", lambda c: "/elder/"),
    Page("elder: service step", "elder", lambda c: "/elder/service/meal"),
    Page("request flow step", "elder", lambda c: "/requests/step", prime="/requests/new?service=meal"),
    Page("request status", "elder", lambda c: f"/requests/{c.request_reference}"),
    Page("volunteer feed", "volunteer", lambda c: "/volunteer/requests/"),
    Page("time-bank statement", "volunteer", lambda c: c.statement),
    Page(COMPLETION, "worker", lambda c: f"/worker/completion/?community={c.community_id}", "community"),
    Page("worker elder list (largest community)", "worker", lambda c: f"/worker/?community={c.community_id}",
         "community"),
    Page("worker elder detail", "worker", lambda c: f"/worker/elders/{c.elder_id}"),
    Page("officer overview", "officer", lambda c: "/officer/", "district"),
    Page(OFFICER_DASHBOARD, "officer", lambda c: "/officer/visits/", "district"),
    Page(WEBHOOK, None, lambda c: "/twilio/sms"),
]
TWILIO_TOKEN = "benchmark-twilio-token-" + "x" * 16


@dataclass
class Job:
    name: str
    run: Callable[[str], float]            # database URL → seconds
    baseline: Callable[[str], float] | None  # the equivalent single SQL statement → seconds


def _session(url: str):
    from portal.db import make_engine, make_session_factory

    engine = make_engine(url)
    return engine, make_session_factory(engine)()


def _clear_current(session) -> None:
    """Remove the current periods' obligations (inside the rolled-back transaction) so planning starts
    from the state the seed left, also on a reused database where they were planned before."""
    from sqlalchemy import delete, select

    from portal.models import ObligationEvent, VisitObligation
    from portal.policy import policy
    from portal.services.compliance import window_for

    now = _now()
    periods = [window_for(conf["cadence"], now, tier).period for tier, conf in policy()["tiers"].items()]
    ids = select(VisitObligation.id).where(VisitObligation.period.in_(periods))
    session.execute(delete(ObligationEvent).where(ObligationEvent.obligation_id.in_(ids)))
    session.execute(delete(VisitObligation).where(VisitObligation.period.in_(periods)))
    session.flush()


def _timed_rolled_back(url: str, work, planned: bool = False) -> float:
    """Seconds `work(session)` takes inside a transaction that is then rolled back (reruns are alike);
    `planned`: the current periods are planned first, untimed (closing and ranking need them)."""
    engine, session = _session(url)
    try:
        _clear_current(session)
        if planned:
            from portal.services import compliance

            compliance.plan_visits(session, _now())
            session.flush()
        started = time.perf_counter()
        work(session)
        session.flush()
        return time.perf_counter() - started
    finally:
        session.rollback()
        session.close()
        engine.dispose()


def _now():
    from portal.db import utcnow

    return utcnow()


def job_plan_visits(url: str) -> float:
    from portal.services import compliance

    return _timed_rolled_back(url, lambda s: compliance.plan_visits(s, _now()))


def baseline_plan_visits(url: str) -> float:
    """The same rows with one INSERT … SELECT per tier: no pairing, capacity or worker fallback."""
    from sqlalchemy import insert as sa_insert
    from sqlalchemy import literal, select

    from portal.models import ElderProfile, VisitObligation
    from portal.policy import policy
    from portal.services.compliance import window_for
    from portal.types import UTCDateTime

    def work(session):
        now = _now()
        parts = []
        for tier, conf in policy()["tiers"].items():
            w = window_for(conf["cadence"], now, tier)
            parts.append(select(ElderProfile.person_id, literal(w.period), literal(w.cadence), literal(tier),
                                ElderProfile.community_id, literal(w.start, UTCDateTime), literal(w.due, UTCDateTime),
                                literal(w.end, UTCDateTime), literal("due"), literal(now, UTCDateTime),
                                literal(now, UTCDateTime)).where(ElderProfile.care_tier == tier))
        from sqlalchemy import union_all

        session.execute(sa_insert(VisitObligation).from_select(
            ["elder_id", "period", "cadence", "tier", "community_id", "window_start", "due_at", "window_end",
             "status", "created_at", "updated_at"], union_all(*parts)))
    return _timed_rolled_back(url, work)


def job_close(url: str) -> float:
    """Close the current periods as on the first day after them (planned first, not timed)."""
    from datetime import timedelta

    from portal.services import compliance

    after = compliance.window_for("monthly", _now()).end + timedelta(minutes=30)
    return _timed_rolled_back(url, lambda session: compliance.close_periods(session, after), planned=True)


def baseline_close(url: str) -> float:
    from sqlalchemy import text

    from portal.services import compliance

    def work(session):
        period = compliance.current_month(_now())
        session.execute(text("UPDATE visit_obligations SET status = 'missed' WHERE period = :p "
                             "AND status IN ('upcoming', 'due')"), {"p": period})
    return _timed_rolled_back(url, work, planned=True)  # planned first, so there is something to close


def job_ledger_check(url: str) -> float:
    from portal.services.ledger_check import check_ledger

    engine, session = _session(url)
    try:
        import inspect

        # the full re-verification as `linli ledger check --full` runs it: in parallel chunks when it can
        workers = {"workers": os.cpu_count() or 1} if "workers" in inspect.signature(check_ledger).parameters else {}
        started = time.perf_counter()
        result = check_ledger(session.connection(), **workers)
        seconds = time.perf_counter() - started
        if not result.ok:
            raise SystemExit(f"ledger check failed on the seeded data: {result.findings[:3]}")
        print(f"  {result.summary()}", flush=True)
        return seconds
    finally:
        session.close()
        engine.dispose()


def baseline_ledger_check(url: str) -> float:
    """One statement reading every entry: the balances per account (SUM … GROUP BY)."""
    from sqlalchemy import text

    engine, session = _session(url)
    try:
        started = time.perf_counter()
        session.execute(text("SELECT account_id, SUM(amount) FROM ledger_entries GROUP BY account_id")).all()
        return time.perf_counter() - started
    finally:
        session.close()
        engine.dispose()


def _forecast_refresh():
    import importlib

    try:  # the module: `compliance.forecast` itself is the re-exported function
        forecast_module = importlib.import_module("portal.services.compliance.forecast")
    except ImportError:
        return None
    return getattr(forecast_module, "refresh_forecast_ranks", None)


def job_forecast_ranks(url: str) -> float:
    """The hourly job ranking the month's open visits for the officers' forecast (after planning)."""
    refresh = _forecast_refresh()
    if refresh is None:
        raise NotMeasured("no forecast-ranks job on this branch (the forecast is ranked per request)")
    return _timed_rolled_back(url, lambda session: refresh(session, _now()), planned=True)


JOBS: list[Job] = [
    Job("plan-visits", job_plan_visits, baseline_plan_visits),
    Job("period close", job_close, baseline_close),
    Job("ledger check", job_ledger_check, baseline_ledger_check),
    Job("forecast ranks", job_forecast_ranks, None),
]


# --------------------------------------------------------------------------- database

def run_linli(url: str, *args: str, instance: Path) -> str:
    env = dict(os.environ, LINLI_DATABASE_URL=url, LINLI_INSTANCE_PATH=str(instance), LINLI_LOG_LEVEL="WARNING")
    result = subprocess.run([str(VENV_BIN / "linli"), *args], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"linli {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def is_seeded(url: str) -> bool:
    from sqlalchemy import func, inspect, select

    from portal.db import make_engine
    from portal.models import ElderProfile

    engine = make_engine(url)
    try:
        if "elder_profiles" not in inspect(engine).get_table_names():
            return False
        with engine.connect() as conn:
            return (conn.scalar(select(func.count()).select_from(ElderProfile)) or 0) > 0
    except Exception:
        return False
    finally:
        engine.dispose()


def fresh_postgres(admin_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        # the benchmark's own database: a connection left by an earlier run that was stopped is closed
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    parsed = urllib.parse.urlsplit(admin_url)
    return urllib.parse.urlunsplit(("postgresql+psycopg", parsed.netloc, f"/{name}", "", ""))


def prepare_accounts(url: str) -> Context:
    """A worker for the largest community, an officer for the district, one elder there."""
    from sqlalchemy import func, select

    from portal.db import make_engine, make_session_factory
    from portal.models import Area, ElderProfile, Person
    from portal.services.login import password_hasher
    from portal.services.people import grant

    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        community_id, count = session.execute(
            select(ElderProfile.community_id, func.count()).group_by(ElderProfile.community_id)
            .order_by(func.count().desc(), ElderProfile.community_id).limit(1)
        ).one()
        district = session.scalar(select(Area).where(Area.level == "district").order_by(Area.id))
        elder = session.scalar(select(ElderProfile).where(ElderProfile.community_id == community_id)
                               .order_by(ElderProfile.care_tier, ElderProfile.person_id))
        for role, area_id in (("worker", community_id), ("officer", district.id)):
            phone = PHONES[role]
            person = session.scalar(select(Person).where(Person.phone == phone))
            if person is None:
                person = Person(phone=phone, name="基准" + ("工作者" if role == "worker" else "民政"),
                                preferred_channel="web", password_hash=password_hasher.hash(PASSWORD))
                session.add(person)
                session.flush()
                grant(session, person, role, area_id)
        from portal.models import ServiceRequest, VolunteerProfile
        from portal.services import compliance

        # The current periods' obligations, as the scheduler would have planned them, and the officer
        # forecast's ranks, as its hourly job would have left them (where the code has that job).
        compliance.plan_visits(session, _now())
        refresh = _forecast_refresh()
        if refresh is not None:
            refresh(session, _now())
        volunteer = session.scalar(select(VolunteerProfile).where(VolunteerProfile.community_id == community_id)
                                   .order_by(VolunteerProfile.person_id))
        request = session.scalar(select(ServiceRequest).where(ServiceRequest.elder_id == elder.person_id))
        if request is None:
            from portal.services.requests import new_reference

            request = ServiceRequest(reference=new_reference(session), elder_id=elder.person_id,
                                     placed_by_id=elder.person_id, placed_via="web", service="meal", details={},
                                     status="open", community_id=community_id, created_at=_now())
            session.add(request)
        session.commit()
        month = compliance.previous_month(compliance.current_month(_now()))
        context = Context(community_id=community_id, community_elders=count, elder_id=elder.person_id,
                          request_reference=request.reference,
                          statement=f"/time-bank/statement/{int(month[:4])}/{int(month[5:])}",
                          phones={"elder": elder.person.phone, "volunteer": volunteer.person.phone,
                                  **{k: v for k, v in PHONES.items() if v}})
    engine.dispose()
    return context


# --------------------------------------------------------------------------- HTTP

class Client:
    """Cookies, CSRF tokens and one new connection per request (gunicorn's sync workers close them)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        body = urllib.parse.urlencode(form) if form is not None else None
        all_headers = {"Accept-Language": "zh-CN", **(headers or {})}
        if body is not None:
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        return response.status, dict(response.getheaders()), data

    def csrf(self, path: str) -> str:
        _status, _headers, data = self.request("GET", path)
        match = re.search(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', data)
        if not match:
            raise SystemExit(f"no CSRF token on {path}")
        return match.group(1).decode()


def login(client: Client, phone: str, fake, password: str | None) -> None:
    """The real sign-in: the code travels outbox → `linli sender` → the fake Twilio, and is read there."""
    already = len(fake.created)
    status, _h, _d = client.request("POST", "/login", {"phone": phone, "csrf_token": client.csrf("/login")})
    assert status == 303, f"login step 1: {status}"
    code = None
    deadline = time.monotonic() + 30
    while code is None and time.monotonic() < deadline:
        for created in list(fake.created)[already:]:
            found = re.search(r"(?<!\d)(\d{6})(?!\d)", created["form"].get("Body") or "")
            if created["form"].get("To") == phone and found:
                code = found.group(1)
        time.sleep(0.05)
    if not code:
        raise SystemExit("no login code reached the fake provider (is the sender process running?)")
    status, headers, _d = client.request("POST", "/login/code", {"code": code, "csrf_token": client.csrf("/login/code")})
    assert status == 303, f"login step 2: {status}"
    if "/login/password" in headers.get("Location", ""):
        status, _h, _d = client.request("POST", "/login/password",
                                        {"password": password, "csrf_token": client.csrf("/login/password")})
        assert status == 303, f"login step 3: {status}"


def measure_webhook(client: Client, phone: str, count: int, warmup: int = 5) -> list[float]:
    """Signed inbound texts (a fresh MessageSid each) from the elder: stored, answered, queued reply."""
    from portal.channels.twilio_hooks import sign

    times = []
    for i in range(warmup + count):
        params = {"MessageSid": f"SMbench{time.time_ns()}{i}", "From": phone, "To": "+8610000000000",
                  "Body": "你好"}
        url = f"http://127.0.0.1:{client.port}/twilio/sms"
        started = time.perf_counter()
        status, _h, _d = client.request("POST", "/twilio/sms", params,
                                        headers={"X-Twilio-Signature": sign(url, params, TWILIO_TOKEN)})
        if status != 200:
            raise SystemExit(f"/twilio/sms answered {status}")
        if i >= warmup:
            times.append((time.perf_counter() - started) * 1000)
    return times


def measure(client: Client, path: str, count: int, warmup: int = 5) -> list[float]:
    for _ in range(warmup):
        status, _h, _d = client.request("GET", path)
        if status != 200:
            raise SystemExit(f"{path} answered {status}")
    times = []
    for _ in range(count):
        started = time.perf_counter()
        client.request("GET", path)
        times.append((time.perf_counter() - started) * 1000)
    return times


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def compressed(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=5))  # nginx: gzip_comp_level 5 (docs/deploy.md)


def htmx_step_bytes(client: Client) -> int:
    """Compressed bytes of one htmx step of the elder's service flow (the partial only)."""
    _s, _h, html = client.request("GET", "/elder/service/meal")
    match = re.search(rb'hx-target="#([\w-]+)"', html)
    target = match.group(1).decode() if match else "main"
    _s, _h, data = client.request("GET", "/elder/service/meal",
                                  headers={"HX-Request": "true", "HX-Target": target})
    return compressed(data)


def first_load_bytes(client: Client, path: str) -> tuple[int, int]:
    """Compressed bytes of the page and everything it loads (CSS, htmx): (page only, total)."""
    _s, _h, html = client.request("GET", path)
    total = page = compressed(html)
    for asset in re.findall(rb'(?:href|src)="(/static/[^"]+)"', html):
        _s, _h, data = client.request("GET", asset.decode())
        total += compressed(data)
    return page, total


# --------------------------------------------------------------------------- gunicorn

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_pids(master: int) -> list[int]:
    try:
        return [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    except OSError:
        return []


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the process's peak resident set size."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def app_env(url: str, instance: Path, fake_url: str, port: int = 0) -> dict:
    """gunicorn's and the sender's environment: the Twilio transport pointed at the loopback fake, the
    sender a process of its own (LINLI_SENDER=process, the production shape)."""
    env = dict(os.environ, LINLI_DATABASE_URL=url, LINLI_INSTANCE_PATH=str(instance), LINLI_LOG_FORMAT="text",
               LINLI_ENV="development", LINLI_SECRET_KEY="benchmark-secret-key-" + "s" * 24, LINLI_SENDER="process",
               LINLI_LOG_LEVEL="WARNING", TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
               TWILIO_FROM_NUMBER="+8610690000000", TWILIO_API_BASE=fake_url)
    if port:
        env.update(LINLI_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2", LINLI_PUBLIC_URL=f"http://127.0.0.1:{port}")
    for key in ("PROMETHEUS_MULTIPROC_DIR", "LINLI_DEV_TOOLS", "LINLI_TRANSPORT", "LINLI_REDIS_URL"):
        env.pop(key, None)
    return env


def start_gunicorn(url: str, port: int, instance: Path, log_path: Path, fake_url: str) -> subprocess.Popen:
    env = app_env(url, instance, fake_url, port)
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "portal.wsgi:app"],
        cwd=ROOT, env=env, stdout=log_path.open("ab"), stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if Client(port).request("GET", "/healthz")[0] == 200 and len(worker_pids(process.pid)) == 2:
                return process
        except OSError:
            pass
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited; see {log_path}:\n{log_path.read_text()[-2000:]}")
        time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"gunicorn did not answer; see {log_path}")


def start_sender(url: str, instance: Path, log_path: Path, fake_url: str) -> subprocess.Popen:
    return subprocess.Popen([str(VENV_BIN / "linli"), "sender"], cwd=ROOT, env=app_env(url, instance, fake_url),
                            stdout=log_path.open("ab"), stderr=subprocess.STDOUT)


# --------------------------------------------------------------------------- the other rows (scratch databases)

class NotMeasured(Exception):
    """A row that cannot be measured here; the message says why."""


def ledger_daily(url: str) -> float:
    """`ledger check` as the nightly job runs it: the chain from the last signed checkpoint on. The
    checkpoint is put one day's entries back (the seed's entries ÷ the days it spans), so the check
    verifies a day of new entries, as it would each night."""
    import inspect

    from sqlalchemy import text

    from portal.services import ledger_check

    if "since" not in inspect.signature(ledger_check.check_ledger).parameters:
        raise NotMeasured("`linli ledger check` has no daily mode on this branch (it re-verifies every entry)")
    engine, session = _session(url)
    try:
        conn = session.connection()
        last, first_at, last_at = conn.execute(text(
            "SELECT MAX(e.id), MIN(t.created_at), MAX(t.created_at) FROM ledger_entries e "
            "JOIN ledger_transfers t ON t.id = e.transfer_id")).one()
        days = max(1, (_as_datetime(last_at) - _as_datetime(first_at)).days)
        entry_id = max(1, last - last // days)
        entry_hash = conn.scalar(text("SELECT hash FROM ledger_entries WHERE id = :id"), {"id": entry_id})
        at = _now().isoformat()
        checkpoint = {"entry_id": entry_id, "hash": entry_hash, "at": at,
                      "signature": ledger_check._signature(entry_id, entry_hash, at)}
        if ledger_check.check_against_checkpoint(conn, json.dumps(checkpoint)):
            raise NotMeasured("the benchmark's checkpoint was refused")
        started = time.perf_counter()
        result = ledger_check.check_ledger(conn, since=checkpoint)
        seconds = time.perf_counter() - started
        print(f"  {result.summary()} ({last - entry_id:,} entries since the checkpoint, a day of {days})",
              flush=True)
        return seconds
    finally:
        session.close()
        engine.dispose()


def _as_datetime(value):
    from datetime import datetime

    return datetime.fromisoformat(value) if isinstance(value, str) else value


def scratch_url(backend: str, args, name: str) -> str:
    """An empty database for a row that needs one of its own (never the seeded one)."""
    if backend == "sqlite":
        return f"sqlite:///{Path(tempfile.mkdtemp(prefix=f'linli-bench-{name}-')) / f'{name}.sqlite3'}"
    return fresh_postgres(args.pg_admin_url, f"{args.pg_db}_{name}")


def drop_scratch(backend: str, args, name: str, url: str = "") -> None:
    if backend == "sqlite" and url.startswith("sqlite:///"):
        shutil.rmtree(Path(url[len("sqlite:///"):]).parent, ignore_errors=True)
    if backend == "postgresql":
        import psycopg

        with psycopg.connect(args.pg_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.pg_db}_{name}" WITH (FORCE)')


def _script(*command: str, timeout: float) -> str:
    result = subprocess.run([str(VENV_BIN / "python"), *command], cwd=ROOT, capture_output=True, text=True,
                            timeout=timeout, env={k: v for k, v in os.environ.items() if not k.startswith("LINLI_")})
    return result.stdout + result.stderr


def extra_sos(backend: str, args) -> dict:
    url = scratch_url(backend, args, "sos")
    try:
        out = _script("benchmarks/sos_first.py", "--database-url", url, "--backlog", "15000", "--drain-seconds", "2",
                      timeout=300)
    finally:
        drop_scratch(backend, args, "sos", url)
    found = re.search(r"SOS to first provider call .*?: (\d+) ms at ([\d.]+) texts/s \((\d+) reminders before", out)
    if "SOS did not reach the provider within 30 s" in out:
        return {"ms": None, "rate": 1.0, "before": None}
    if not found:
        raise NotMeasured("sos_first.py printed no figure: " + out.strip()[-300:].replace("\n", " "))
    return {"ms": int(found.group(1)), "rate": float(found.group(2)), "before": int(found.group(3))}


def extra_outbox(backend: str, args) -> dict:
    from outbox_two import run as outbox_run

    url = scratch_url(backend, args, "outbox")
    try:
        return outbox_run(url, args.outbox_count or (300 if args.quick else 3000))
    finally:
        drop_scratch(backend, args, "outbox", url)


LOAD_THINK = "2-8"  # seconds a person spends on a page before the next click (benchmarks/load.py --think)


def _load_figures(out: str) -> dict:
    found = re.search(r"load: (\d+) requests in ([\d.]+) s = ([\d.]+) req/s; p50 (\d+) ms, p95 (\d+) ms, "
                      r"p99 (\d+) ms; errors (\d+)", out)
    if not found:
        raise NotMeasured("load.py printed no figure: " + out.strip()[-300:].replace("\n", " "))
    kinds = re.search(r"error kinds: (.*)", out)
    return {"requests": int(found.group(1)), "rps": float(found.group(3)), "p50": int(found.group(4)),
            "p95": int(found.group(5)), "p99": int(found.group(6)), "errors": int(found.group(7)),
            "kinds": kinds.group(1) if kinds else ""}


def extra_load(backend: str, args) -> dict:
    """200 people for 60 s, each pausing 2–8 s on a page as a person does (the target row); then what
    the same two workers serve with 50 users and no pause at all (saturation, printed beside it: 200
    tight loops on this 2-core machine measure the client's queue, p95 ≈ 200 ÷ throughput)."""
    if backend != "postgresql":
        raise NotMeasured("the target is for PostgreSQL")
    url = scratch_url(backend, args, "load")
    try:
        paced = _load_figures(_script("benchmarks/load.py", "--users", "200", "--seconds", "60", "--think",
                                      LOAD_THINK, "--database-url", url, timeout=600))
    finally:
        drop_scratch(backend, args, "load", url)
    url = scratch_url(backend, args, "load")
    try:
        paced["saturation"] = _load_figures(_script("benchmarks/load.py", "--users", "50", "--seconds", "20",
                                                    "--database-url", url, timeout=600))
    except NotMeasured as why:
        paced["saturation"] = {"not_measured": str(why)}
    finally:
        drop_scratch(backend, args, "load", url)
    paced["think"] = LOAD_THINK
    return paced


def _load(extra):
    shown = (f"{extra['errors']} errors, p95 {extra['p95']} ms, {extra['rps']:.0f} req/s"
             + (f" ({extra['kinds']})" if extra["kinds"] else ""))
    if extra.get("think"):
        shown += f"; pauses {extra['think']} s"
    saturation = extra.get("saturation") or {}
    if "rps" in saturation:
        shown += (f"; no pauses, 50 users: {saturation['rps']:.0f} req/s, p95 {saturation['p95']} ms, "
                  f"{saturation['errors']} errors")
    return shown, extra["errors"] == 0 and extra["p95"] < 300


def extra_pg_restart(backend: str, args) -> dict:
    if backend != "postgresql":
        raise NotMeasured("a PostgreSQL scenario")
    out = _script("benchmarks/load.py", "--scenario", "pg-restart", "--users", "100", "--seconds", "30", timeout=600)
    if "SKIPPED" in out:
        raise NotMeasured(out.split("SKIPPED —", 1)[-1].strip().splitlines()[0])
    found = re.search(r"writes acknowledged (\d+), stored (\d+), lost (\d+); errors during the restart (\d+), "
                      r"after it (\d+)", out)
    total = re.search(r"pg-restart: (\d+) requests .*?errors (\d+)", out)
    restart = re.search(r"restart took ([\d.]+) s", out)
    if not found:
        raise NotMeasured("load.py --scenario pg-restart printed no figure: " + out.strip()[-300:].replace("\n", " "))
    kinds = re.search(r"error kinds: (.*)", out)
    return {"acknowledged": int(found.group(1)), "stored": int(found.group(2)), "lost": int(found.group(3)),
            "errors_during": int(found.group(4)), "errors_after": int(found.group(5)),
            "requests": int(total.group(1)) if total else None, "restart_s": float(restart.group(1)) if restart else None,
            "kinds": kinds.group(1) if kinds else ""}


EXTRAS: dict[str, Callable] = {"sos": extra_sos, "outbox": extra_outbox, "load": extra_load,
                               "pg_restart": extra_pg_restart}
QUICK_EXTRAS = ("sos", "outbox")  # --quick: the load minute and the restart need PostgreSQL and time


# --------------------------------------------------------------------------- targets: one entry per row

@dataclass
class Target:
    what: str
    target: str
    check: Callable[[dict], tuple[str, str]]   # one database's result → (measured, verdict)


def _page(result: dict, name: str) -> dict | None:
    return (result.get("pages") or {}).get(name)


def ratio_row(names: list[str], limit: float) -> Callable[[dict], tuple[str, str]]:
    def check(result):
        pages = [_page(result, name) for name in names]
        if not all(pages):
            return "", verdict(None, limit, result.get("pages_error") or "pages not run")
        ratios = [page["ratio"] for page in pages]
        shown = "–".join(dict.fromkeys((f"{min(ratios):.1f}", f"{max(ratios):.1f}"))) + "×"
        return shown, verdict(max(ratios), limit)
    return check


def completion_kb(result):
    size = result.get("completion_bytes")
    if not size:
        return "", verdict(None, 150, "pages not run")
    return f"{size['raw'] / 1024:.0f} KB ({size['gzip'] / 1024:.0f} KB gzip)", verdict(size["raw"] / 1024, 150)


def percentile_row(name: str, q: str, limit: float, postgres_only: bool = False):
    def check(result):
        page = _page(result, name)
        if not page:
            return "", verdict(None, limit, result.get("pages_error") or "pages not run")
        if postgres_only and result["backend"] != "postgresql":
            return f"{q} {page[q]:.0f} ms", "(target is for PostgreSQL)"
        return f"{q} {page[q]:.0f} ms", verdict(page[q], limit)
    return check


def job_row(name: str, check_value: Callable[[float, float | None], tuple[str, float | None, float]],
            postgres_only: bool = False):
    def check(result):
        job = (result.get("jobs") or {}).get(name)
        if not job:
            return "", verdict(None, 0, (result.get("job_errors") or {}).get(name, "jobs not run"))
        shown, value, limit = check_value(job["seconds"], job.get("baseline"))
        if postgres_only and result["backend"] != "postgresql":
            return shown, "(target is for PostgreSQL)"
        return shown, verdict(value, limit)
    return check


def extra_row(key: str, show: Callable[[dict], tuple[str, bool]]):
    def check(result):
        extra = (result.get("extras") or {}).get(key)
        if extra is None:
            return "", "not measured: not run (--quick, or --no-extras)"
        if "not_measured" in extra:
            return "", f"not measured: {extra['not_measured']}"
        shown, ok = show(extra)
        return shown, HOLDS if ok else FAILS
    return check


def seed_row(result):
    seconds = result.get("seed_s")
    if seconds is None:
        return "", "not measured: database reused (--reuse)"
    shown = f"{seconds:.0f} s for {result['elders']:,}"
    if result["elders"] != 130_000:
        return shown, "(target is for 130,000)"
    return shown, verdict(seconds, 120)


def rss_row(result):
    rss = result.get("rss_mb")
    if not rss:
        return "", verdict(None, 120, "pages not run")
    low, high = f"{min(rss):.0f}", f"{max(rss):.0f}"
    return (low if low == high else f"{low}–{high}") + " MB", verdict(max(rss), 120)


def _outbox(extra):
    shown = (f"{extra['rate']:.0f}/s ({extra['rate_with_startup']:.0f}/s with start-up), {extra['sent']:,} sent, "
             f"{extra['twice']} twice, split {extra['shares']}")
    return shown, (extra["rate"] or 0) >= 300 and extra["twice"] == 0 and extra["sent"] == extra["count"]


def _pg_restart(extra):
    kinds = extra.get("kinds") or "none"
    shown = (f"{extra['errors_during']} errors during a {extra['restart_s']} s restart, {extra['errors_after']} after "
             f"({kinds}); {extra['stored']}/{extra['acknowledged']} writes kept")
    seen = [k for k in re.findall(r"(GET|POST) (\S+) ×", kinds) if k != ("POST", "503")]
    return shown, not seen and extra["lost"] == 0 and extra["errors_after"] == 0


TARGETS: list[Target] = [
    Target("elder home, request step, request status", "≤ 3× /healthz",
           ratio_row(["elder home", "request flow step", "request status"], 3)),
    Target("volunteer feed", "≤ 4×", ratio_row(["volunteer feed"], 4)),
    Target("time-bank statement", "≤ 4×", ratio_row(["time-bank statement"], 4)),
    Target("completion list, largest community (~430 elders)", "≤ 5×", ratio_row([COMPLETION], 5)),
    Target("completion list, first screen (uncompressed HTML)", "≤ 150 KB", completion_kb),
    Target("officer visits dashboard (district officer)", "p95 ≤ 100 ms on PostgreSQL",
           percentile_row(OFFICER_DASHBOARD, "p95", 100, postgres_only=True)),
    Target("SMS webhook, provider answering in 2 s", "p99 ≤ 25 ms", percentile_row(WEBHOOK, "p99", 25)),
    Target("SOS to first provider call, 15,000 reminders queued", "< 2 s",
           extra_row("sos", lambda e: (f"{e['ms']} ms ({e['before']} reminders before it, {e['rate']:g} texts/s)",
                                       e["ms"] < 2000) if e["ms"] is not None
                     else ("over 30 s: it did not reach the provider within the 30 s waited", False))),
    Target("outbox throughput, two sender processes, loopback fake", "≥ 300 messages/s, none twice",
           extra_row("outbox", _outbox)),
    Target("plan-visits", "≤ 1.5× its single SQL",
           job_row("plan-visits", lambda s, b: (f"{s:.2f} s, ×{s / b:.1f} of {b:.2f} s", s / b, 1.5))),
    Target("ledger check, daily (since the last signed checkpoint)", "< 2 s",
           job_row("ledger check, daily", lambda s, b: (f"{s:.2f} s", s, 2))),
    Target("ledger check, full re-verification", "< 10 s on PostgreSQL",
           job_row("ledger check", lambda s, b: (f"{s:.1f} s", s, 10), postgres_only=True)),
    Target("seed 130,000 elders", "< 2 min", seed_row),
    Target("200 users × 60 s, mixed roles, 2 workers, 2–8 s on each page", "0 errors, p95 < 300 ms (PostgreSQL)",
           extra_row("load", _load)),
    Target("web worker peak RSS", "< 120 MB", rss_row),
    Target("PostgreSQL restarted under 100 users", "0 errors a person sees; an unknown write 503, never 500",
           extra_row("pg_restart", _pg_restart)),
]


def target_rows(results: dict[str, dict]) -> list[dict]:
    """{what, target, <backend>: (measured, verdict)} for every target and database."""
    rows = []
    for target in TARGETS:
        row = {"what": target.what, "target": target.target}
        for backend, result in results.items():
            try:
                row[backend] = target.check(result)
            except Exception as exc:  # noqa: BLE001 - a broken row is shown, not fatal
                row[backend] = ("", f"not measured: {type(exc).__name__}: {exc}")
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- run

def database_url(backend: str, elders: int, args) -> str:
    reuse = args.reuse or (args.reuse_growth and elders != args.elders)
    if backend == "sqlite":
        DATA.mkdir(parents=True, exist_ok=True)
        path = DATA / f"bench-{elders}.sqlite3"
        url = f"sqlite:///{path}"
        if not (reuse and is_seeded(url)):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return url
    name = f"{args.pg_db}_{elders}"
    parsed = urllib.parse.urlsplit(args.pg_admin_url)
    url = urllib.parse.urlunsplit(("postgresql+psycopg", parsed.netloc, f"/{name}", "", ""))
    if not (reuse and is_seeded(url)):
        url = fresh_postgres(args.pg_admin_url, name)
    return url


def database_mb(url: str) -> float | None:
    """The seeded database's size on disk (tables and indexes), for the capacity estimate."""
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        return path.stat().st_size / 2**20 if path.exists() else None
    from sqlalchemy import text

    from portal.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(text("SELECT pg_database_size(current_database())")) / 2**20
    finally:
        engine.dispose()


def bench_backend(backend: str, elders: int, args, instance: Path, extras: bool) -> dict:

    url = database_url(backend, elders, args)
    result: dict = {"backend": backend, "elders": elders, "requests": args.requests, "seed_s": None,
                    "jobs": {}, "job_errors": {}, "extras": {}}
    if not is_seeded(url):
        run_linli(url, "db", "upgrade", instance=instance)
        started = time.perf_counter()
        output = run_linli(url, "seed", "--elders", str(elders), instance=instance)
        result["seed_s"] = time.perf_counter() - started
        print(f"[{backend} {elders:,}] {output.strip()}", flush=True)
    else:
        run_linli(url, "db", "upgrade", instance=instance)
    result["database_mb"] = database_mb(url)
    jobs = [] if args.pages_only else [*JOBS, Job("ledger check, daily", ledger_daily, None)]
    for job in jobs:
        try:
            seconds = job.run(url)
            baseline = job.baseline(url) if job.baseline else None
        except NotMeasured as why:
            result["job_errors"][job.name] = str(why)
            print(f"[{backend} {elders:,}] job {job.name}: not measured: {why}", flush=True)
            continue
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - one job crashing is one row not measured
            result["job_errors"][job.name] = f"it crashed: {type(exc).__name__}: {exc}"
            print(f"[{backend} {elders:,}] job {job.name}: crashed: {exc!r}", flush=True)
            continue
        result["jobs"][job.name] = {"seconds": seconds, "baseline": baseline}
        print(f"[{backend} {elders:,}] job {job.name}: {seconds:.2f} s"
              + (f" (single SQL {baseline:.2f} s)" if baseline else ""), flush=True)
    try:
        bench_pages(backend, url, elders, args, instance, result)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - the other rows still count
        result["pages_error"] = f"{type(exc).__name__}: {exc}"
        print(f"[{backend} {elders:,}] pages failed: {result['pages_error']}", flush=True)
    for key, run in EXTRAS.items():
        if not extras or (args.quick and key not in QUICK_EXTRAS):
            continue
        print(f"[{backend} {elders:,}] {key} …", flush=True)
        try:
            result["extras"][key] = run(backend, args)
        except NotMeasured as why:
            result["extras"][key] = {"not_measured": str(why)}
        except Exception as exc:  # noqa: BLE001 - a crash in one row is a row not measured
            result["extras"][key] = {"not_measured": f"it crashed: {type(exc).__name__}: {exc}"}
        print(f"[{backend} {elders:,}] {key}: {result['extras'][key]}", flush=True)
    if backend == "postgresql" and not args.keep:
        import psycopg

        with psycopg.connect(args.pg_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.pg_db}_{elders}" WITH (FORCE)')
    return result


def bench_pages(backend: str, url: str, elders: int, args, instance: Path, result: dict) -> None:
    from tests.channels.fake_twilio import FakeTwilio

    context = prepare_accounts(url)
    result["community_elders"] = context.community_elders
    print(f"[{backend} {elders:,}] largest community: {context.community_elders} elders", flush=True)
    port = free_port()
    log_path = instance / f"gunicorn-{backend}-{elders}.log"
    with FakeTwilio() as fake:
        process = start_gunicorn(url, port, instance, log_path, fake.url)
        sender = start_sender(url, instance, instance / f"sender-{backend}-{elders}.log", fake.url)
        try:
            clients = {None: Client(port)}
            for role in sorted({page.role for page in PAGES if page.role}):
                clients[role] = Client(port)
                login(clients[role], context.phones[role], fake, PASSWORD)
            fake.delay_every = 2.0  # from here the provider takes 2 s to answer every call
            timings, trivial_times = {}, {}
            trivial = Client(port)
            for page in PAGES:
                # a block of /healthz before each page, so the ratio's denominator spans the whole run (a
                # block, not one request between each two: right after a page its worker is still tidying
                # up, and a /healthz interleaved request by request would pay for it)
                trivial_times[page.name] = measure(trivial, "/healthz", max(20, args.requests // 4), warmup=2)
                if page.name == WEBHOOK:
                    timings[page.name] = measure_webhook(clients[None], context.phones["elder"], args.requests)
                else:
                    if page.prime:
                        clients[page.role].request("GET", page.prime)
                    timings[page.name] = measure(clients[page.role], page.url(context), args.requests)
                    if page.name == COMPLETION:
                        _s, _h, html = clients[page.role].request("GET", page.url(context))
                        result["completion_bytes"] = {"raw": len(html), "gzip": compressed(html)}
                print(f"[{backend} {elders:,}] {page.name}: p50 {percentile(timings[page.name], 50):.1f} ms",
                      flush=True)
            # Each page against /healthz over the whole run: every block taken before a page, pooled. (A
            # block's own p50 swings 1–20 ms with the other work on this machine: as a denominator for
            # one page it adds more noise than it removes.) Each block's p50 is kept beside its page.
            trivial_all = [ms for name in timings for ms in trivial_times[name]] + timings[HEALTHZ]
            trivial_p50 = percentile(trivial_all, 50)
            result["trivial_p50"] = trivial_p50
            result["pages"] = {name: {"p50": percentile(t, 50), "p95": percentile(t, 95), "p99": percentile(t, 99),
                                      "trivial_p50": percentile(trivial_times[name], 50),
                                      "ratio": percentile(t, 50) / trivial_p50}
                               for name, t in timings.items()}
            result["bytes"] = {path: first_load_bytes(clients["elder"], path)
                               for path in ("/elder/", "/elder/service/meal")}
            result["htmx"] = htmx_step_bytes(clients["elder"])
            result["rss_mb"] = [peak_rss_mb(pid) for pid in worker_pids(process.pid)]
        finally:
            sender.terminate()
            process.terminate()
            process.wait(timeout=30)
            try:
                sender.wait(timeout=15)
            except subprocess.TimeoutExpired:
                sender.kill()


def print_pages(result: dict) -> None:
    pages = result.get("pages")
    label = f"{result['backend']}, {result['elders']:,} elders"
    if not pages:
        print(f"{label}: pages not measured ({result.get('pages_error', 'not run')})")
        return
    print(f"{label}, {result['requests']} requests per page, gunicorn 2 sync workers (ms; ×triv = p50 / p50 of "
          "/healthz over the run; triv = the p50 of the /healthz block taken just before the page)")
    print(f"  {'page':42} {'p50':>7} {'p95':>7} {'p99':>7} {'triv':>6} {'×triv':>6}")
    for name, page in pages.items():
        print(f"  {name:42} {page['p50']:7.1f} {page['p95']:7.1f} {page['p99']:7.1f} "
              f"{page.get('trivial_p50', 0):6.1f} {page['ratio']:6.1f}")
    for name, job in result.get("jobs", {}).items():
        ratio = f", ×{job['seconds'] / job['baseline']:.1f} of single SQL ({job['baseline']:.2f} s)" \
            if job.get("baseline") else ""
        print(f"  job {name}: {job['seconds']:.2f} s{ratio}")
    sizes = "; ".join(f"{path}: page {page / 1024:.1f} KB, first load {total / 1024:.1f} KB"
                      for path, (page, total) in (result.get("bytes") or {}).items())
    if sizes:
        print(f"  gzip {sizes}; htmx step {result['htmx'] / 1024:.1f} KB")


def print_targets(results: dict[str, dict]) -> list[dict]:
    rows = target_rows(results)
    backends = list(results)
    print()
    print("Targets (issue 16), " + "; ".join(f"{b} at {r['elders']:,} elders" for b, r in results.items()))
    for row in rows:
        print(f"  {row['what']} — target {row['target']}")
        for backend in backends:
            measured, result = row[backend]
            print(f"      {backend:10} {result:16}  {measured}" if not result.startswith("not measured")
                  else f"      {backend:10} {result}")
    return rows


def growth_rows(series: dict[str, dict[int, dict]]) -> list[dict]:
    """Per database, per page (ratio to /healthz) and job (seconds): the figures at each size, the
    growth per doubling and a flag when a page serving one person or community is not flat, or a
    district page or job grows worse than linearly."""
    rows = []
    for backend, by_size in series.items():
        sizes = sorted(by_size)
        names = [(page.name, "page", page.scope) for page in PAGES if page.scope != "trivial"]
        names += [(name, "job", "district") for name in
                  dict.fromkeys(n for r in by_size.values() for n in (r.get("jobs") or {}))]
        for name, kind, scope in names:
            values = []
            for size in sizes:
                r = by_size[size]
                if kind == "page":
                    values.append(((r.get("pages") or {}).get(name) or {}).get("ratio"))
                else:
                    values.append(((r.get("jobs") or {}).get(name) or {}).get("seconds"))
            factor = per_doubling(list(zip(sizes, values)))
            rows.append({"backend": backend, "name": name, "kind": kind, "scope": scope, "sizes": sizes,
                         "values": values, "per_doubling": factor, "flag": growth_flag(scope, factor)})
    return rows


def print_growth(rows: list[dict]) -> None:
    print()
    print("Growth (pages: p50 ÷ p50 of /healthz; jobs: seconds); per doubling of the elders")
    for row in rows:
        figures = "  ".join(f"{size // 1000}k {value:6.2f}" if value is not None else f"{size // 1000}k    —"
                            for size, value in zip(row["sizes"], row["values"]))
        factor = f"{row['per_doubling']:.2f}×" if row["per_doubling"] else "  —  "
        print(f"  {row['backend']:10} {row['kind']:4} {row['name']:42} {figures}  {factor:>6} {row['scope']:9} "
              f"{row['flag']}")


def plot_growth(rows: list[dict], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install -e '.[bench]'): no plot drawn")
        return
    matplotlib.rcParams["svg.hashsalt"] = "linli"  # the same figures draw the same file
    matplotlib.rcParams["svg.fonttype"] = "none"   # text stays text: a small file
    from matplotlib.ticker import ScalarFormatter

    fig, axes = plt.subplots(1, 2, figsize=(11, 6.2))
    styles = {"postgresql": "-", "sqlite": "--"}
    names = list(dict.fromkeys(row["name"] for row in rows))
    colours = {name: plt.get_cmap("tab20")(i % 20) for i, name in enumerate(names)}
    sizes = sorted({s for row in rows for s in row["sizes"]})
    for ax, kind, label in ((axes[0], "page", "p50 ÷ p50 of /healthz"), (axes[1], "job", "seconds")):
        for row in rows:
            points = [(s, v) for s, v in zip(row["sizes"], row["values"]) if v]
            if row["kind"] != kind or not points:
                continue
            ax.plot([s for s, _ in points], [v for _, v in points], styles.get(row["backend"], "-"), marker="o",
                    markersize=3, linewidth=1.2, color=colours[row["name"]],
                    label=f"{row['name']} ({'PG' if row['backend'] == 'postgresql' else 'SQLite'})")
        if kind == "job" and ax.lines:
            # a guide: what linear growth from the smallest job's first point looks like
            first = min(line.get_ydata()[0] for line in ax.lines)
            ax.plot(sizes, [first * s / sizes[0] for s in sizes], ":", color="grey", linewidth=1, label="linear")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.set_xticks(sizes, [f"{s // 1000}k" for s in sizes])
        ax.set_xlabel("elders in the district")
        ax.set_ylabel(label)
        ax.set_title("pages (flat = good)" if kind == "page" else "district jobs (at most linear)")
        ax.grid(True, which="both", linewidth=0.3)
        ax.legend(fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)
    fig.suptitle("Linli: cost as the district grows (solid PostgreSQL, dashed SQLite)", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Date": None})
    if os.environ.get("LINLI_BENCH_PNG"):
        fig.savefig(os.environ["LINLI_BENCH_PNG"], dpi=110)
    plt.close(fig)
    print(f"plot: {path.relative_to(ROOT)}")


def load_results(paths: list[Path]) -> dict[str, dict]:
    """{backend: saved run} from the JSON files that exist."""
    found = {}
    for path in paths:
        if path.exists():
            saved = json.loads(path.read_text())
            found[saved["backend"]] = saved
    return found


def report(saved: dict[str, dict]) -> None:
    """The targets table at each database's main size and the growth across its sizes, from saved runs;
    writes benchmarks/results/table.md and the plot."""
    main_results = {b: s["sizes"][str(s["main"])] for b, s in saved.items()}
    for result in main_results.values():
        print_pages(result)
    rows = print_targets(main_results)
    sizes_note = "; ".join(f"{b}: {s['main']:,} elders, run {s['date']}" for b, s in saved.items())
    table = markdown_table(rows, list(main_results))
    series = {b: {int(size): r for size, r in s["sizes"].items()} for b, s in saved.items()}
    growth = growth_rows({b: by for b, by in series.items() if len(by) > 1})
    lines = [f"<!-- written by benchmarks/run.py --report ({sizes_note}) -->", table]
    if growth:
        print_growth(growth)
        sizes = sorted({s for row in growth for s in row["sizes"]})
        lines += ["", "| database | page or job | scope | " + " | ".join(f"{s // 1000}k" for s in sizes)
                  + " | per doubling | |", "|---|---|---|" + "---|" * len(sizes) + "---|---|"]
        for row in growth:
            values = dict(zip(row["sizes"], row["values"]))
            cells = " | ".join(f"{values[s]:.2f}" if values.get(s) is not None else "—" for s in sizes)
            factor = f"{row['per_doubling']:.2f}×" if row["per_doubling"] else "—"
            unit = "×" if row["kind"] == "page" else " s"
            lines.append(f"| {row['backend']} | {row['name']} ({unit.strip()}) | {row['scope']} | {cells} | {factor} "
                         f"| {row['flag']} |")
        plot_growth(growth, ROOT / "docs" / "performance-growth.svg")
    (RESULTS / "table.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"table: {(RESULTS / 'table.md').relative_to(ROOT)}")
    # the README carries the targets table, docs/performance.md both tables, between their markers
    for path, text in ((ROOT / "README.md", "\n".join(lines[:2])), (ROOT / "docs" / "performance.md", "\n".join(lines))):
        if replace_between_markers(path, text):
            print(f"updated: {path.relative_to(ROOT)}")


START, END = "<!-- benchmark-table:start -->", "<!-- benchmark-table:end -->"


def replace_between_markers(path: Path, text: str) -> bool:
    content = path.read_text(encoding="utf-8") if path.exists() else ""
    if START not in content or END not in content:
        return False
    head, rest = content.split(START, 1)
    _old, tail = rest.split(END, 1)
    path.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")
    return True


def compare_with_baseline(result: dict, path: Path) -> None:
    """Print a WARNING for each page whose ratio is ten times the committed baseline's (never fails)."""
    if not path.exists():
        print(f"no baseline at {path}: nothing to compare")
        return
    saved = json.loads(path.read_text())
    before = saved["sizes"][str(saved["main"])].get("pages") or {}
    now = result.get("pages") or {}
    warnings = baseline_warnings({n: p["ratio"] for n, p in now.items()}, {n: p["ratio"] for n, p in before.items()})
    if result.get("pages_error"):
        warnings.append(f"WARNING: the pages were not measured: {result['pages_error']}")
    print()
    print("\n".join(warnings) if warnings else
          f"no page is {WARN_FACTOR:.0f}× its ratio in {path} (baseline of {saved['date']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="5,000 elders, 50 requests per page; skips the load minute and the restart")
    parser.add_argument("--pages-only", action="store_true", help="skip the job timings")
    parser.add_argument("--no-extras", action="store_true",
                        help="skip the rows on scratch databases (SOS, outbox, load, restart)")
    parser.add_argument("--elders", type=int)
    parser.add_argument("--growth", default="",
                        help="sizes, e.g. 65000,130000,260000: pages and jobs at each (extras at --elders)")
    parser.add_argument("--requests", type=int)
    parser.add_argument("--outbox-count", type=int, help="texts for the two senders (default 3,000; --quick 300)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--reuse", action="store_true", help="reuse an already seeded database of that size")
    parser.add_argument("--reuse-growth", action="store_true",
                        help="reuse seeded databases for the growth sizes other than --elders (seeded by hand or "
                             "an earlier --keep run; the seed-time row comes from --elders, seeded afresh)")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database afterwards")
    parser.add_argument("--json", type=Path,
                        help="write the figures here (default: benchmarks/results/<backend>.json, not for --quick)")
    parser.add_argument("--baseline", type=Path, help="warn when a page's ratio is 10× this saved run's")
    parser.add_argument("--report", action="store_true",
                        help="no run: print the tables from benchmarks/results/*.json, write table.md and the plot")
    parser.add_argument("--pg-admin-url", default=os.environ.get(
        "LINLI_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--pg-db", default=os.environ.get("LINLI_BENCH_PG_DB", "linli_bench"))
    args = parser.parse_args()
    if args.report:
        report(load_results([RESULTS / "sqlite.json", RESULTS / "postgresql.json"]))
        return
    args.elders = args.elders or (5_000 if args.quick else 130_000)
    args.requests = args.requests or (50 if args.quick else 200)
    sizes = sorted({int(n) for n in args.growth.split(",") if n.strip()} | {args.elders})
    requests = args.requests
    instance = Path(tempfile.mkdtemp(prefix="linli-bench-"))
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    saved: dict[str, dict] = {}
    try:
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            saved[backend] = {"backend": backend, "main": args.elders, "date": stamp, "quick": args.quick,
                              "note": "a shared 2-core machine; compare ratios to /healthz, not milliseconds",
                              "sizes": {}}
            path = args.json or (None if args.quick else RESULTS / f"{backend}.json")
            # the main size first (every row), then the growth sizes; the file is written after each, so
            # a run stopped part-way keeps what it measured
            for size in sorted(sizes, key=lambda n: (n != args.elders, n)):
                main_size = size == args.elders
                args.requests = requests if main_size else max(50, requests // 2)  # other sizes: growth only
                saved[backend]["sizes"][str(size)] = result = bench_backend(
                    backend, size, args, instance, extras=main_size and not args.no_extras)
                print_pages(result)
                if path:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(json.dumps(saved[backend], indent=1, ensure_ascii=False, default=float) + "\n")
                    print(f"figures: {path}", flush=True)
    finally:
        if saved:
            print_targets({b: s["sizes"][str(s["main"])] for b, s in saved.items()})
            growth = growth_rows({b: {int(k): r for k, r in s["sizes"].items()} for b, s in saved.items()
                                  if len(s["sizes"]) > 1})
            if growth:
                print_growth(growth)
            if args.baseline:
                for s in saved.values():
                    compare_with_baseline(s["sizes"][str(s["main"])], args.baseline)
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
