"""Linli benchmark: a synthetic district, the app under gunicorn (2 workers), latency per page.

    python benchmarks/run.py                  # 130,000 elders, SQLite and PostgreSQL
    python benchmarks/run.py --quick          # 5,000 elders, fewer requests
    python benchmarks/run.py --reuse          # keep an already seeded database
    python benchmarks/run.py --backends sqlite

PostgreSQL: the database named by --pg-db is dropped and created on the server of --pg-admin-url
(unless --reuse finds it seeded). Logins go through the real flow (phone → code → password); the
code is read from the console transport's log line, which prints it because the benchmark runs
gunicorn with LINLI_DEV_TOOLS=1 — nothing in the app is weakened for the benchmark.

Extension points for round two: add a Page to PAGES (with the role that sees it and a function
building its URL from the Context), a Job to JOBS (a function timing the job and one timing its
single-SQL-statement equivalent), and accounts to prepare_accounts().
"""
from __future__ import annotations

import argparse
import gzip
import http.client
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
    kind: str = "page"                # "trivial", "elder", "staff" (targets differ, see issue 7)
    prime: str | None = None          # requested once before (e.g. starts the request conversation)


PAGES = [
    Page("/healthz (trivial)", None, lambda c: "/healthz", "trivial"),
    Page("elder home", "elder", lambda c: "/elder/", "elder"),
    Page("elder: service step", "elder", lambda c: "/elder/service/meal", "elder"),
    Page("request flow step", "elder", lambda c: "/requests/step", "elder", prime="/requests/new?service=meal"),
    Page("request status", "elder", lambda c: f"/requests/{c.request_reference}", "elder"),
    Page("volunteer feed", "volunteer", lambda c: "/volunteer/requests/", "elder"),
    Page("time-bank statement", "volunteer", lambda c: c.statement, "elder"),
    Page("completion list (largest community)", "worker",
         lambda c: f"/worker/completion/?community={c.community_id}", "completion"),
    Page("worker elder list (largest community)", "worker", lambda c: f"/worker/?community={c.community_id}", "staff"),
    Page("worker elder detail", "worker", lambda c: f"/worker/elders/{c.elder_id}", "staff"),
    Page("officer overview", "officer", lambda c: "/officer/", "officer"),
    Page("officer visits dashboard", "officer", lambda c: "/officer/visits/", "officer"),
    Page("SMS webhook (signed POST)", None, lambda c: "/twilio/sms", "webhook"),
]
TARGETS = {"elder": "≤ 2× trivial p50", "completion": "≤ 3× trivial p50", "officer": "p95 ≤ 150 ms (PostgreSQL)",
           "webhook": "p99 ≤ 50 ms"}
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


def _timed_rolled_back(url: str, work) -> float:
    """Seconds `work(session)` takes inside a transaction that is then rolled back (reruns are alike)."""
    engine, session = _session(url)
    try:
        _clear_current(session)
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
    from sqlalchemy import literal, select
    from sqlalchemy import insert as sa_insert

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

    engine, session = _session(url)
    try:
        now = _now()
        _clear_current(session)
        compliance.plan_visits(session, now)
        session.flush()
        after = compliance.window_for("monthly", now).end + timedelta(minutes=30)
        started = time.perf_counter()
        compliance.close_periods(session, after)
        session.flush()
        return time.perf_counter() - started
    finally:
        session.rollback()
        session.close()
        engine.dispose()


def baseline_close(url: str) -> float:
    from sqlalchemy import text

    from portal.services import compliance

    def work(session):
        period = compliance.current_month(_now())
        session.execute(text("UPDATE visit_obligations SET status = 'missed' WHERE period = :p "
                             "AND status IN ('upcoming', 'due')"), {"p": period})
    # plan first (untimed) so there is something to close
    engine, session = _session(url)
    try:
        _clear_current(session)
        compliance.plan_visits(session, _now())
        session.flush()
        started = time.perf_counter()
        work(session)
        return time.perf_counter() - started
    finally:
        session.rollback()
        session.close()
        engine.dispose()


def job_ledger_check(url: str) -> float:
    from portal.services.ledger_check import check_ledger

    engine, session = _session(url)
    try:
        started = time.perf_counter()
        result = check_ledger(session.connection())
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


JOBS: list[Job] = [
    Job("plan-visits", job_plan_visits, baseline_plan_visits),
    Job("period close", job_close, baseline_close),
    Job("ledger check", job_ledger_check, baseline_ledger_check),
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
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
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

        # The current periods' obligations, as the scheduler would have planned them.
        compliance.plan_visits(session, _now())
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


def login(client: Client, phone: str, log_path: Path, password: str | None) -> None:
    offset = log_path.stat().st_size
    status, _h, _d = client.request("POST", "/login", {"phone": phone, "csrf_token": client.csrf("/login")})
    assert status == 303, f"login step 1: {status}"
    code = None
    for _ in range(100):
        with log_path.open("rb") as handle:
            handle.seek(offset)
            found = re.findall(rb"linli\.transport.*?(?<!\d)(\d{6})(?!\d)", handle.read())
        if found:
            code = found[-1].decode()
            break
        time.sleep(0.05)
    if not code:
        raise SystemExit("no login code appeared in the gunicorn log (is LINLI_DEV_TOOLS on?)")
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


def start_gunicorn(url: str, port: int, instance: Path, log_path: Path) -> subprocess.Popen:
    env = dict(os.environ, LINLI_DATABASE_URL=url, LINLI_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2",
               LINLI_DEV_TOOLS="1", LINLI_INSTANCE_PATH=str(instance), LINLI_LOG_FORMAT="text",
               LINLI_PUBLIC_URL=f"http://127.0.0.1:{port}", TWILIO_AUTH_TOKEN=TWILIO_TOKEN)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
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
            raise SystemExit(f"gunicorn exited; see {log_path}")
        time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"gunicorn did not answer; see {log_path}")


# --------------------------------------------------------------------------- run

def bench_backend(backend: str, args, instance: Path) -> dict:
    if backend == "sqlite":
        DATA.mkdir(parents=True, exist_ok=True)
        path = DATA / f"bench-{args.elders}.sqlite3"
        url = f"sqlite:///{path}"
        if not (args.reuse and is_seeded(url)):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        name = f"{args.pg_db}_{args.elders}"
        parsed = urllib.parse.urlsplit(args.pg_admin_url)
        url = urllib.parse.urlunsplit(("postgresql+psycopg", parsed.netloc, f"/{name}", "", ""))
        if not (args.reuse and is_seeded(url)):
            url = fresh_postgres(args.pg_admin_url, name)
    result = {"backend": backend, "seed_s": None}
    if not is_seeded(url):
        run_linli(url, "db", "upgrade", instance=instance)
        started = time.perf_counter()
        output = run_linli(url, "seed", "--elders", str(args.elders), instance=instance)
        result["seed_s"] = time.perf_counter() - started
        print(f"[{backend}] {output.strip()}", flush=True)
    result["jobs"] = {}
    for job in ([] if args.pages_only else JOBS):
        seconds = job.run(url)
        baseline = job.baseline(url) if job.baseline else None
        result["jobs"][job.name] = (seconds, baseline)
        print(f"[{backend}] job {job.name}: {seconds:.2f} s" + (f" (single SQL {baseline:.2f} s)" if baseline else ""),
              flush=True)
    context = prepare_accounts(url)
    print(f"[{backend}] largest community: {context.community_elders} elders", flush=True)

    port = free_port()
    log_path = instance / f"gunicorn-{backend}.log"
    process = start_gunicorn(url, port, instance, log_path)
    try:
        clients = {None: Client(port)}
        for role in sorted({page.role for page in PAGES if page.role}):
            clients[role] = Client(port)
            login(clients[role], context.phones[role], log_path, PASSWORD)
        timings = {}
        for page in PAGES:
            if page.kind == "webhook":
                timings[page.name] = measure_webhook(clients[None], context.phones["elder"], args.requests)
            else:
                if page.prime:
                    clients[page.role].request("GET", page.prime)
                timings[page.name] = measure(clients[page.role], page.url(context), args.requests)
            print(f"[{backend}] {page.name}: p50 {percentile(timings[page.name], 50):.1f} ms", flush=True)
        result["bytes"] = {path: first_load_bytes(clients["elder"], path) for path in ("/elder/", "/elder/service/meal")}
        result["htmx"] = htmx_step_bytes(clients["elder"])
        result["rss_mb"] = [peak_rss_mb(pid) for pid in worker_pids(process.pid)]
        result["timings"] = timings
    finally:
        process.terminate()
        process.wait(timeout=30)
    if backend == "postgresql" and not args.keep:
        import psycopg

        with psycopg.connect(args.pg_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.pg_db}_{args.elders}"')
    return result


def print_table(results: list[dict], args) -> None:
    print()
    print(f"Linli benchmark: {args.elders:,} elders, {args.requests} requests per page, gunicorn 2 sync workers")
    header = f"{'page':40}" + "".join(f" | {r['backend']:>10} p50   p95   p99  ×triv" for r in results)
    print(header)
    print("-" * len(header))
    for page in PAGES:
        row = f"{page.name:40}"
        for r in results:
            t = r["timings"][page.name]
            trivial = percentile(r["timings"][PAGES[0].name], 50)
            row += (f" | {percentile(t, 50):9.1f} {percentile(t, 95):5.1f} {percentile(t, 99):5.1f}"
                    f" {percentile(t, 50) / trivial:5.1f}")
        print(row + (f"   target {TARGETS[page.kind]}" if page.kind in TARGETS else ""))
    print("(ms; ×triv = p50 against the p50 of /healthz)")
    for r in results:
        seed = f"{r['seed_s']:.1f} s" if r["seed_s"] is not None else "reused"
        rss = ", ".join(f"{mb:.0f}" for mb in r["rss_mb"])
        sizes = "; ".join(f"{path}: page {page / 1024:.1f} KB, first load {total / 1024:.1f} KB"
                          for path, (page, total) in r["bytes"].items())
        print(f"{r['backend']:10}: seed {seed}; worker peak RSS {rss} MB (target < 150); gzip {sizes} "
              f"(target ≤ 30 KB); htmx step {r['htmx'] / 1024:.1f} KB (target ≤ 8 KB)")
        for name, (seconds, baseline) in r["jobs"].items():
            ratio = f" ×{seconds / baseline:.1f} of single SQL ({baseline:.2f} s)" if baseline else ""
            print(f"{'':10}  job {name}: {seconds:.2f} s{ratio}")
    print("job targets: plan-visits < 10 s and ≤ 2× its INSERT … SELECT; ledger check < 10 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5,000 elders and 50 requests per page")
    parser.add_argument("--pages-only", action="store_true", help="skip the job timings")
    parser.add_argument("--elders", type=int)
    parser.add_argument("--requests", type=int)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--reuse", action="store_true", help="reuse an already seeded database of that size")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database afterwards")
    parser.add_argument("--pg-admin-url", default=os.environ.get(
        "LINLI_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--pg-db", default=os.environ.get("LINLI_BENCH_PG_DB", "linli_bench"))
    args = parser.parse_args()
    args.elders = args.elders or (5_000 if args.quick else 130_000)
    args.requests = args.requests or (50 if args.quick else 200)
    instance = Path(tempfile.mkdtemp(prefix="linli-bench-"))
    results = []
    try:
        for backend in args.backends.split(","):
            results.append(bench_backend(backend.strip(), args, instance))
    finally:
        print_table(results, args) if results else None
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
