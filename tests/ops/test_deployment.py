"""docs/deploy.md, followed: production settings on PostgreSQL (a database of its own), `linli db upgrade`,
the first admin by the command (password through stdin), areas and elders imported from the sample
sheets by the commands, gunicorn as a process where the admin adds a worker who signs in over HTTP,
and the scheduler as a process whose reminder reaches a loopback fake Twilio, in Chinese.

Runs in the PostgreSQL run of CI (LINLI_TEST_DATABASE_URL); skipped on SQLite-only machines.
"""
from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from datetime import timedelta
from pathlib import Path

import pytest

from tests.channels.fake_twilio import FakeTwilio
from tests.db.test_migrations import empty_database_url  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SAMPLES = ROOT / "docs" / "samples"
PUBLIC_HOST = "linli.example.org"
ADMIN_PHONE, ADMIN_PASSWORD = "+8613900000001", "district-admin-2026"
WORKER_PHONE, WORKER_PASSWORD = "+8613900000002", "community-worker-26"
WAIT = 60  # seconds, for every wait on a process

pytestmark = pytest.mark.postgres_only


@pytest.fixture()
def deploy_database(empty_database_url):  # noqa: F811  (a new database on the test server)
    if not empty_database_url.startswith("postgresql"):
        pytest.skip("the deployment test needs PostgreSQL (LINLI_TEST_DATABASE_URL)")
    return empty_database_url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_url() -> str:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return "redis://127.0.0.1:6379/15"
    except OSError:
        return ""  # rate limits in memory: one gunicorn worker below keeps them consistent


class Site:
    """HTTP to gunicorn as nginx would forward it: Host, X-Forwarded-Proto https, cookies kept by hand
    (the production cookies are Secure, which an http client would otherwise never send back)."""

    def __init__(self, port: int):
        self.port, self.cookies = port, {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict, str]:
        body = urllib.parse.urlencode(form or {}, doseq=True) if form is not None else None
        headers = {"Host": PUBLIC_HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1",
                   "X-Forwarded-Host": PUBLIC_HOST, "Referer": f"https://{PUBLIC_HOST}{path}",
                   "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name] = rest.split(";", 1)[0]
            return response.status, dict(response.getheaders()), response.read().decode()
        finally:
            conn.close()

    def post_form(self, path: str, form: dict) -> tuple[int, dict, str]:
        _status, _headers, page = self.request("GET", path)
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
        return self.request("POST", path, {"csrf_token": token, **form})


def _code_for(twilio: FakeTwilio, phone: str, after: int) -> str:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        for created in twilio.created[after:]:
            if created["form"].get("To") == phone and re.search(r"\d{6}", created["form"].get("Body", "")):
                return re.search(r"\d{6}", created["form"]["Body"]).group(0)
        time.sleep(0.2)
    raise AssertionError(f"no login code reached the fake Twilio for {phone}")


def _sign_in(site: Site, twilio: FakeTwilio, phone: str, password: str, first_time: bool = False) -> None:
    sent = len(twilio.created)
    status, headers, _ = site.post_form("/login", {"phone": phone})
    assert status == 303, status
    status, headers, _ = site.post_form("/login/code", {"code": _code_for(twilio, phone, sent)})
    assert status == 303 and headers["Location"].endswith("/login/password"), (status, headers)
    if first_time:
        status, headers, _ = site.request("GET", "/login/password")
        assert headers["Location"].endswith("/login/new-password")
        status, headers, _ = site.post_form("/login/new-password", {"password": password, "confirmation": password})
    else:
        status, headers, _ = site.post_form("/login/password", {"password": password})
    assert status == 303, status


def _run(env: dict, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([str(BIN / "linli"), *args], env=env, input=stdin, capture_output=True, text=True,
                          timeout=WAIT * 2, cwd=ROOT)
    assert done.returncode == 0, f"linli {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_from_an_empty_database_to_a_working_district(deploy_database, tmp_path):
    policy = tmp_path / "policy.toml"
    # The visitor is reminded on the first day of the month, so the scheduler has a reminder to send today.
    policy.write_text('[escalation]\nmonthly = [{day = 1, action = "remind_visitor"}]\n', encoding="utf-8")
    with FakeTwilio() as twilio:
        port = _free_port()
        env = {
            "PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "LANG": "C.UTF-8",
            "LINLI_ENV": "production",
            "LINLI_SECRET_KEY": "d" * 64,
            "LINLI_LEDGER_KEY": "e" * 64,  # docs/deploy.md: kept outside the database
            "LINLI_DATABASE_URL": deploy_database,
            "LINLI_PUBLIC_URL": f"https://{PUBLIC_HOST}",
            "LINLI_PROXY_HOPS": "1",
            "LINLI_REDIS_URL": _redis_url(),
            "LINLI_INSTANCE_PATH": str(tmp_path / "instance"),
            "LINLI_POLICY_FILE": str(policy),
            "LINLI_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "2",
            "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
            "TWILIO_AUTH_TOKEN": "fake-auth-token",
            "TWILIO_FROM_NUMBER": "+8610000000000",
            "TWILIO_API_BASE": twilio.url,
        }
        # docs/deploy.md, 2: the schema; 3: the first admin; 4: the district's areas and its sheets
        _run(env, "db", "upgrade")
        out = _run(env, "admin", "create", "--phone", ADMIN_PHONE, "--name", "区管理员",
                   stdin=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n")
        assert ADMIN_PASSWORD not in out
        assert "create" in _run(env, "areas", "import", str(SAMPLES / "areas.csv"))
        assert "'created': 40" in _run(env, "people", "import", str(SAMPLES / "elders.xlsx"), "--community", "燕京社区")
        assert "'created': 12" in _run(env, "people", "import", str(SAMPLES / "volunteers.csv"), "--kind",
                                       "volunteers", "--community", "燕京社区")
        assert "'unchanged': 40" in _run(env, "people", "import", str(SAMPLES / "elders.xlsx"), "--community",
                                         "燕京社区")

        # 5: gunicorn, as the systemd unit starts it
        web = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "portal.wsgi:app"], env=env,
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # web workers never send: a sender unit does (docs/deploy.md), here before the scheduler starts
        sender = subprocess.Popen([str(BIN / "linli"), "sender"], env=env, cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        scheduler = None
        try:
            site = Site(port)
            deadline = time.monotonic() + WAIT
            while True:
                try:
                    if site.request("GET", "/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                assert web.poll() is None, web.stdout.read()
                assert time.monotonic() < deadline, "gunicorn did not answer /healthz in time"
                time.sleep(0.3)

            _sign_in(site, twilio, ADMIN_PHONE, ADMIN_PASSWORD)
            status, _headers, page = site.request("GET", "/admin/areas")
            assert status == 200 and "燕京社区" in page
            status, _headers, page = site.request("GET", "/admin/staff")
            community_id = re.search(r'<option value="(\d+)">[^<]*燕京社区</option>', page).group(1)
            status, _headers, body = site.request("POST", "/admin/staff/new", {
                "csrf_token": re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1),
                "name": "赵敏", "phone": WORKER_PHONE, "role": "worker", "area_ids": community_id})
            assert status == 303, body

            worker = Site(port)
            _sign_in(worker, twilio, WORKER_PHONE, WORKER_PASSWORD, first_time=True)
            status, _headers, page = worker.request("GET", "/worker/")
            assert status == 200 and "燕京社区" in page

            # 5: the scheduler, its own process; on start it catches up today's planning and reminders
            sent_before = len(twilio.created)
            scheduler = subprocess.Popen([str(BIN / "linli"), "scheduler"], env=env, cwd=ROOT,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            deadline = time.monotonic() + WAIT
            reminders = []
            # Reminders keep the quiet hours (21:00–08:00 local): run at night, the catch-up queues the
            # worker's reminder for the morning instead of sending it, and that queued text is what she
            # will receive — so it is read from the outbox, with the moment it is due.
            from sqlalchemy import create_engine, select

            from portal.db import utcnow
            from portal.models import OutboundMessage
            from portal.services.outbox import quiet_hours_end

            morning = quiet_hours_end(utcnow())
            engine = create_engine(deploy_database)
            try:
                while not reminders:
                    if morning is None:
                        reminders = [c["form"]["Body"] for c in twilio.created[sent_before:]
                                     if c["form"].get("To") == WORKER_PHONE]
                    else:
                        with engine.connect() as connection:
                            held = connection.execute(select(OutboundMessage.body, OutboundMessage.next_attempt_at)
                                                      .where(OutboundMessage.to_phone == WORKER_PHONE,
                                                             OutboundMessage.kind == "reminder")).all()
                        reminders = [body for body, _due in held]
                        for _body, due in held:
                            assert due.replace(tzinfo=None) >= morning.replace(tzinfo=None) - timedelta(minutes=1), due
                    assert scheduler.poll() is None, scheduler.stdout.read()
                    assert time.monotonic() < deadline, "no reminder reached the fake Twilio (or the outbox, at night)"
                    time.sleep(0.5)
            finally:
                engine.dispose()
        finally:
            for process in (scheduler, sender, web):
                if process is not None:
                    _stop(process)
        assert all(r.startswith("/2010-04-01/Accounts/") for r in [c["path"] for c in twilio.created])
        # The reminders of the catch-up at start run with the app's context, so they speak the worker's
        # language; those sent later from APScheduler's threads may not (see the report of issue 14).
        assert "请在" in reminders[0] and "探访" in reminders[0], reminders[0]
