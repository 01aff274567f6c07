#!/usr/bin/env python3
"""Load and fault scenarios for Linli, on loopback only, bounded in count and time. Prints figures.

    .venv/bin/python benchmarks/load.py                       # 100 users for 60 s against gunicorn (2 workers)
    .venv/bin/python benchmarks/load.py --users 20 --seconds 10
    .venv/bin/python benchmarks/load.py --scenario pg-restart  # throwaway PostgreSQL restarted mid-run
    .venv/bin/python benchmarks/load.py --scenario sms-outage  # the SMS provider down for a minute
    .venv/bin/python benchmarks/load.py --scenario webhook-dedupe   # 3 deliveries of one inbound SMS
    .venv/bin/python benchmarks/load.py --scenario all

Exit status 0 when every check held, 1 when one failed; a scenario whose feature does not exist
yet (the /twilio/sms webhook) is reported as skipped. The pg-restart scenario never touches a
shared server: it initialises and starts its own throwaway cluster on a unix socket.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SECRET = "load-test-secret-key"
USER_AGENT = "linli-load/1"
HOST = "127.0.0.1"


class SkipScenario(Exception):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- the database and the app under load


def prepare_database(url: str, elders: int = 200) -> None:
    import portal.models  # noqa: F401
    from portal.db import make_engine, make_session_factory
    from portal.migrate import upgrade
    from portal.services.demo import seed_demo

    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        seed_demo(session, date.today(), elders=elders, volunteers=20)
        session.commit()
    engine.dispose()


class Gunicorn:
    """gunicorn with 2 workers on a free loopback port, its output kept in a log file."""

    def __init__(self, database_url: str, workdir: Path, workers: int = 2, threads: int = 4, extra_env=None):
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log_path = workdir / "gunicorn.log"
        env = dict(os.environ, LINLI_DATABASE_URL=database_url, LINLI_SECRET_KEY=SECRET,
                   LINLI_INSTANCE_PATH=str(workdir / "instance"), LINLI_DEV_TOOLS="0", LINLI_ENV="development",
                   LINLI_PUBLIC_URL=self.url, **(extra_env or {}))
        # Threads through LINLI_THREADS, as a deployment sets them, so gunicorn.conf.py (read from
        # the working directory) chooses the worker class and recycling to match.
        env["LINLI_THREADS"] = str(threads)
        command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers", str(workers),
                   "--bind", f"{HOST}:{self.port}", "--log-level", "warning", "--graceful-timeout", "5",
                   "portal:create_app()"]
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if request("GET", self.port, "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"gunicorn did not start; see {self.log_path}:\n{self.log_path.read_text()[-2000:]}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


def request(method: str, port: int, path: str, body: dict | None = None, cookie: str | None = None,
            headers: dict | None = None, timeout: float = 30) -> tuple[int, bytes, dict]:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        sent_headers = {"User-Agent": USER_AGENT, "Accept-Language": "zh-CN", **(headers or {})}
        data = None
        if cookie:
            sent_headers["Cookie"] = f"session={cookie}"
        if body is not None:
            data = urllib.parse.urlencode(body, doseq=True)
            sent_headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=data, headers=sent_headers)
        response = connection.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        connection.close()


@dataclass
class Persona:
    role: str
    cookie: str | None
    csrf: str | None
    gets: list[str]
    person_id: int | None = None
    community_id: int | None = None


def make_personas(database_url: str) -> list[Persona]:
    """Signed sessions for the demo accounts (the harness holds the key, as the server does)."""
    from flask import session as flask_session
    from flask_login import login_user
    from flask_wtf.csrf import generate_csrf
    from sqlalchemy import select

    from portal import create_app
    from portal.models import Area, ElderProfile, Person
    from portal.web.auth import _binding as session_binding

    app = create_app({"LINLI_DATABASE_URL": database_url, "SECRET_KEY": SECRET, "LINLI_DEV_TOOLS": False})
    state = app.extensions["linli"]
    personas = []
    with state.session_factory() as db:
        people = {p.phone: p for p in db.scalars(select(Person).where(Person.phone.like("+861380000000%")))}
        home = db.scalar(select(Area.id).where(Area.name == "燕京社区"))
        worker_elders = list(db.scalars(select(ElderProfile.person_id).where(ElderProfile.community_id == home)
                                        .limit(5)))
        plan = {
            "elder": ("+8613800000001", ["/elder/", "/elder/service/meal", "/elder/service/cleaning"]),
            "family": ("+8613800000002", ["/family/", "/family/link"]),
            "volunteer": ("+8613800000003", ["/volunteer/"]),
            "worker": ("+8613800000004", ["/worker/", "/worker/?q=" + urllib.parse.quote("王"), "/worker/volunteers", "/worker/family-links"]
                       + [f"/worker/elders/{i}" for i in worker_elders[:5]]),
            "officer": ("+8613800000005", ["/officer/"]),
        }
        for role, (phone, gets) in plan.items():
            person = people[phone]
            with app.test_request_context("/", environ_base={"REMOTE_ADDR": HOST},
                                          headers={"User-Agent": USER_AGENT}):
                login_user(person)
                # as a real sign-in does: the session version and the client binding (portal/web/auth.py)
                flask_session["sv"] = person.session_version or 0
                flask_session["bind"] = session_binding()
                token = generate_csrf()
                cookie = app.session_interface.get_signing_serializer(app).dumps(dict(flask_session))
            personas.append(Persona(role, cookie, token, gets, person.id, home))
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": HOST}, headers={"User-Agent": USER_AGENT}):
        token = generate_csrf()
        cookie = app.session_interface.get_signing_serializer(app).dumps(dict(flask_session))
    personas.append(Persona("anonymous", cookie, token, ["/", "/login", "/healthz"]))
    state.engine.dispose()
    return personas


@dataclass
class Figures:
    latencies: list[float] = field(default_factory=list)
    errors: list[tuple[float, str]] = field(default_factory=list)
    writes_acknowledged: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, problem: str | None):
        with self.lock:
            self.latencies.append(seconds)
            if problem:
                self.errors.append((time.monotonic(), problem))


def run_users(port: int, personas: list[Persona], users: int, seconds: float, figures: Figures,
              write_every: int = 0, think: tuple[float, float] = (0.0, 0.0)) -> float:
    """`users` threads, each a persona looping over its pages for `seconds`. Returns elapsed seconds.

    `think`: the pause between one page and the next, drawn uniformly from (low, high) seconds, as a
    person reads a page before the next click; each user also starts at a random moment within the
    first pause, so 200 people do not all click in the same millisecond. (0, 0): no pause at all,
    every user a tight loop: that measures the server's saturation, not people's waiting."""
    stop_at = time.monotonic() + seconds
    worker = next(p for p in personas if p.role == "worker")
    low, high = think

    def user(index: int):
        rng = random.Random(index)
        persona = personas[index % len(personas)]
        count = 0
        if high:
            time.sleep(rng.uniform(0, high))
        while time.monotonic() < stop_at:
            if high and count:
                time.sleep(min(rng.uniform(low, high), max(0.0, stop_at - time.monotonic())))
                if time.monotonic() >= stop_at:
                    break
            count += 1
            if write_every and persona.role == "worker" and count % write_every == 0:
                phone = f"+86137{index:03d}{count:05d}"
                body = {"csrf_token": worker.csrf, "name": "压测志愿者", "phone": phone, "services": "meal",
                        "community_id": str(worker.community_id), "birth_date": ""}
                started = time.monotonic()
                try:
                    status, _, headers = request("POST", port, "/worker/volunteers/new", body, worker.cookie)
                    problem = None if status == 303 else f"POST volunteer: {status}"
                    if status == 303:
                        with figures.lock:
                            figures.writes_acknowledged.append(phone)
                except Exception as exc:  # noqa: BLE001 - any failure is an error to count
                    problem = f"POST volunteer: {type(exc).__name__}"
                figures.add(time.monotonic() - started, problem)
                continue
            path = rng.choice(persona.gets)
            started = time.monotonic()
            try:
                status, _, _ = request("GET", port, path, cookie=persona.cookie)
                problem = None if status == 200 else f"GET {path} as {persona.role}: {status}"
            except Exception as exc:  # noqa: BLE001 - any failure is an error to count
                problem = f"GET {path}: {type(exc).__name__}"
            figures.add(time.monotonic() - started, problem)

    began = time.monotonic()
    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return time.monotonic() - began


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def report(name: str, figures: Figures, elapsed: float) -> None:
    total = len(figures.latencies)
    print(f"  {name}: {total} requests in {elapsed:.1f} s = {total / elapsed:.1f} req/s; "
          f"p50 {percentile(figures.latencies, 0.5) * 1000:.0f} ms, p95 {percentile(figures.latencies, 0.95) * 1000:.0f} ms, "
          f"p99 {percentile(figures.latencies, 0.99) * 1000:.0f} ms; errors {len(figures.errors)}")
    for _, problem in figures.errors[:5]:
        print(f"    error: {problem}")
    if figures.errors:
        # "GET 500", "POST 503", "GET ConnectionResetError": what a person saw, for benchmarks/run.py
        kinds = Counter(f"{problem.split()[0]} {problem.rsplit(': ', 1)[-1]}" for _, problem in figures.errors)
        print("  error kinds: " + ", ".join(f"{kind} ×{n}" for kind, n in kinds.most_common()))


# ---------------------------------------------------------------- scenarios


def scenario_load(args) -> bool:
    workdir = Path(tempfile.mkdtemp(prefix="linli-load-"))
    url = args.database_url or f"sqlite:///{workdir / 'load.sqlite3'}"
    print(f"load: {args.users} users for {args.seconds} s against gunicorn (2 workers), "
          f"{'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}")
    try:
        prepare_database(url)
        personas = make_personas(url)
        server = Gunicorn(url, workdir)
        try:
            figures = Figures()
            elapsed = run_users(server.port, personas, args.users, args.seconds, figures, think=args.think)
        finally:
            server.stop()
        if args.think[1]:
            print(f"  each user pauses {args.think[0]:g}–{args.think[1]:g} s between pages")
        report("load", figures, elapsed)
        ok = not figures.errors and len(figures.latencies) > 0
        print(f"  {'PASS' if ok else 'FAIL'}: no errors under load")
        return ok
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


class ThrowawayPostgres:
    """A PostgreSQL cluster of our own (initdb into a temp dir, unix socket only, no TCP)."""

    def __init__(self):
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
        if not bins:
            raise SkipScenario("PostgreSQL server binaries are not installed")
        self.bin = bins[-1]
        self.dir = Path(tempfile.mkdtemp(prefix="linli-loadpg-"))
        self.port = free_port()
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.dir / "data"), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
        self.start()
        subprocess.run([str(self.bin / "psql"), "-q", "-h", str(self.dir), "-p", str(self.port), "-U", "postgres",
                        "-d", "postgres", "-c", "CREATE DATABASE linli_load"], check=True, capture_output=True)
        self.url = f"postgresql+psycopg://postgres@/linli_load?host={self.dir}&port={self.port}"

    def _run(self, tool: str, *args: str):
        subprocess.run(self.as_owner + [str(self.bin / tool), *args], check=True, capture_output=True)

    def _ctl(self, action: str):
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "server.log"), "-w", "-t", "60",
                  "-m", "fast", "-o", f"-k {self.dir} -p {self.port} -c listen_addresses='' -c fsync=off", action)

    def start(self):
        self._ctl("start")

    def restart(self):
        self._ctl("restart")

    def destroy(self):
        try:
            self._ctl("stop")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def scenario_pg_restart(args) -> bool:
    seconds = max(args.seconds, 20)
    print(f"pg-restart: {args.users} users for {seconds} s, a throwaway PostgreSQL restarted at {seconds // 3} s")
    cluster = ThrowawayPostgres()
    workdir = Path(tempfile.mkdtemp(prefix="linli-loadpg-run-"))
    try:
        prepare_database(cluster.url, elders=60)
        personas = make_personas(cluster.url)
        server = Gunicorn(cluster.url, workdir)
        figures = Figures()
        restart_window = {}

        def restart_later():
            time.sleep(seconds / 3)
            restart_window["start"] = time.monotonic()
            cluster.restart()
            restart_window["end"] = time.monotonic()

        restarter = threading.Thread(target=restart_later, daemon=True)
        restarter.start()
        try:
            elapsed = run_users(server.port, personas, args.users, seconds, figures, write_every=3)
        finally:
            restarter.join(timeout=120)
            server.stop()
        report("pg-restart", figures, elapsed)
        end = restart_window.get("end", 0)
        print(f"  restart took {end - restart_window.get('start', end):.1f} s")
        late = [problem for at, problem in figures.errors if at > end + 2]
        from sqlalchemy import select

        import portal.models  # noqa: F401
        from portal.db import make_engine
        from portal.models import Person

        engine = make_engine(cluster.url)
        with engine.connect() as conn:
            stored = set(conn.scalars(select(Person.phone).where(Person.phone.in_(figures.writes_acknowledged))))
        engine.dispose()
        lost = set(figures.writes_acknowledged) - stored
        print(f"  writes acknowledged {len(figures.writes_acknowledged)}, stored {len(stored)}, lost {len(lost)}; "
              f"errors during the restart {len(figures.errors) - len(late)}, after it {len(late)}")
        ok = not lost and not late and figures.writes_acknowledged
        print(f"  {'PASS' if ok else 'FAIL'}: requests recover after the restart and nothing acknowledged is lost")
        return bool(ok)
    finally:
        cluster.destroy()
        shutil.rmtree(workdir, ignore_errors=True)


class FakeTwilio(ThreadingHTTPServer):
    """Twilio's Messages API on loopback: 503 while `down`, otherwise 201 with a new SID."""

    def __init__(self):
        super().__init__((HOST, 0), FakeTwilioHandler)
        self.down = False
        self.received: list[dict] = []
        self.refused = 0
        self.lock = threading.Lock()


class FakeTwilioHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        server: FakeTwilio = self.server
        with server.lock:
            if server.down:
                server.refused += 1
                payload, status = {"code": 20503, "message": "Service unavailable", "status": 503}, 503
            else:
                server.received.append(form)
                sid = f"SM{len(server.received):032d}"
                payload = {"sid": sid, "status": "queued", "to": form.get("To"), "from": form.get("From"),
                           "body": form.get("Body"), "account_sid": "ACfake", "num_segments": "1"}
                status = 201
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def scenario_sms_outage(args) -> bool:
    """The provider answers 503 for a minute of (simulated) time while messages are queued and
    retried; once it is back every message is delivered exactly once. The HTTP calls are real
    (the Twilio SDK against a local fake API); the clock is stepped so the run takes seconds."""
    from sqlalchemy import func, select

    import portal.models  # noqa: F401
    from portal.channels import outbox
    from portal.channels.transport import TwilioTransport
    from portal.db import Base, make_engine, make_session_factory, utcnow
    from portal.models import OutboundMessage, Person
    from portal.services.outbox import enqueue

    count, outage = 30, timedelta(seconds=60)
    print(f"sms-outage: {count} messages, the provider down for {outage.seconds} s (stepped clock)")
    fake = FakeTwilio()
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    workdir = Path(tempfile.mkdtemp(prefix="linli-sms-"))
    engine = make_engine(f"sqlite:///{workdir / 'sms.sqlite3'}")
    Base.metadata.create_all(engine)
    transport = TwilioTransport("ACfake", "token", "+8612349", None, api_base=f"http://{HOST}:{fake.server_port}",
                                timeout=5)
    try:
        with make_session_factory(engine)() as session:
            start = utcnow().replace(hour=3, minute=0)  # 11:00 in Shanghai: outside quiet hours
            for i in range(count):
                person = Person(phone=f"+8613900{i:06d}", name=f"志愿者{i}", preferred_channel="sms")
                session.add(person)
                session.flush()
                enqueue(session, person.phone, f"通知 {i}", kind="notice", person=person, now=start)
            session.commit()
            fake.down = True
            now, step = start, timedelta(seconds=5)
            while now < start + outage:
                outbox.send_due(session, transport, now=now)
                now += step
            fake.down = False
            deadline = now + timedelta(hours=1)
            while now < deadline:
                outbox.send_due(session, transport, now=now)
                queued = session.scalar(select(func.count(OutboundMessage.id))
                                        .where(OutboundMessage.status.in_(["queued", "sending"])))
                if not queued:
                    break
                now += step
            statuses = dict(session.execute(select(OutboundMessage.status, func.count(OutboundMessage.id))
                                            .group_by(OutboundMessage.status)).all())
        delivered_to = [form.get("To") for form in fake.received]
        duplicates = len(delivered_to) - len(set(delivered_to))
        print(f"  refused during the outage {fake.refused}; delivered after {len(delivered_to)} "
              f"(duplicates {duplicates}); all sent {(now - start).seconds // 60} min after the start; "
              f"statuses {statuses}")
        ok = statuses.get("sent") == count and len(set(delivered_to)) == count and duplicates == 0
        print(f"  {'PASS' if ok else 'FAIL'}: every message delivered once after the outage")
        return ok
    finally:
        fake.shutdown()
        engine.dispose()
        shutil.rmtree(workdir, ignore_errors=True)


def scenario_webhook_dedupe(args) -> bool:
    """The same inbound SMS delivered 3 times at once (Twilio retries) → acted on once."""
    from portal import create_app

    probe = create_app({"LINLI_DATABASE_URL": "sqlite://", "SECRET_KEY": SECRET})
    if "/twilio/sms" not in {rule.rule for rule in probe.url_map.iter_rules()}:
        raise SkipScenario("the /twilio/sms webhook does not exist yet")
    from sqlalchemy import func, select, text

    import portal.models as models
    from portal.channels.twilio_hooks import sign
    from portal.db import make_engine

    workdir = Path(tempfile.mkdtemp(prefix="linli-hook-"))
    url = f"sqlite:///{workdir / 'hook.sqlite3'}"
    try:
        prepare_database(url, elders=20)
        server = Gunicorn(url, workdir, extra_env={"TWILIO_AUTH_TOKEN": "hook-token"})
        try:
            params = {"From": "+8613800000001", "To": "+8612349", "Body": "1", "MessageSid": "SM" + "d" * 32,
                      "AccountSid": "ACfake", "NumMedia": "0"}
            signature = sign(server.url + "/twilio/sms", params, "hook-token")
            answers = []

            def deliver():
                answers.append(request("POST", server.port, "/twilio/sms", params,
                                       headers={"X-Twilio-Signature": signature})[0])

            threads = [threading.Thread(target=deliver) for _ in range(3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
        finally:
            server.stop()
        engine = make_engine(url)
        inbound = models.InboundMessage  # one row per Twilio MessageSid (unique provider_sid)
        with engine.connect() as conn:
            rows = conn.scalar(select(func.count()).select_from(inbound)
                               .where(inbound.provider_sid == params["MessageSid"]))
            replies = conn.scalar(text("SELECT count(*) FROM outbound_messages WHERE to_phone = :p"),
                                  {"p": params["From"]})
        engine.dispose()
        print(f"  answers {sorted(answers)}; inbound rows for the SID {rows}; replies queued {replies}")
        ok = len(answers) == 3 and all(code < 500 for code in answers) and rows == 1 and (replies or 0) <= 1
        print(f"  {'PASS' if ok else 'FAIL'}: three deliveries, one action")
        return ok
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


SCENARIOS = {"load": scenario_load, "pg-restart": scenario_pg_restart, "sms-outage": scenario_sms_outage,
             "webhook-dedupe": scenario_webhook_dedupe}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="load")
    parser.add_argument("--users", type=int, default=100, help="concurrent users (at most 200)")
    parser.add_argument("--seconds", type=float, default=60, help="how long to load (at most 300)")
    parser.add_argument("--database-url", default="",
                        help="the load scenario's database (an empty scratch one; default SQLite in a temp dir)")
    parser.add_argument("--think", default="0",
                        help="seconds each user pauses between pages, LOW-HIGH (e.g. 2-8; default 0: no pause)")
    args = parser.parse_args()
    low, _, high = args.think.partition("-")
    args.think = (float(low), float(high or low))
    args.users = max(1, min(args.users, 200))
    args.seconds = max(1.0, min(args.seconds, 300.0))
    import logging

    logging.disable(logging.WARNING)
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    failed = []
    for name in names:
        try:
            if not SCENARIOS[name](args):
                failed.append(name)
        except SkipScenario as reason:
            print(f"{name}: SKIPPED — {reason}")
    print("all checks held" if not failed else f"FAILED: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
