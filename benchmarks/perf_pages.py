#!/usr/bin/env python3
"""Time signed-in pages in-process (Flask test client, no HTTP) on a seeded database, against
/healthz in the same run; optionally with a profile of one page. Prints figures, asserts nothing.

    .venv/bin/python benchmarks/perf_pages.py URL [--requests 30] [--pages officer-visits,feed] [--profile PAGE]

"floor" is the cost every signed-in page pays whatever it shows: an elder's page that renders only
base.html, a route this script adds to the app object (the product has no such page). "webhook" posts a
signed inbound text (a fresh MessageSid each) as benchmarks/run.py's measure_webhook does.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

UA = "linli-perf/1"


def sign_in(app, client, phone: str) -> None:
    from sqlalchemy import select

    from portal.models import Person
    from portal.web import auth

    with app.extensions["linli"].session_factory() as session:
        person = session.scalar(select(Person).where(Person.phone == phone))
        grants = [[g.id, g.role, g.area_id] for g in person.grants]
        with app.test_request_context("/", headers={"User-Agent": UA}, environ_base={"REMOTE_ADDR": "127.0.0.1"}):
            binding = auth._binding()
        with client.session_transaction() as cookie:
            cookie.update({"_user_id": str(person.id), "_fresh": True, "sv": person.session_version or 0,
                           "bind": binding, "grants": grants})


def add_floor_page(app) -> None:
    """A signed-in elder's page that renders only base.html: the floor under every signed-in page."""
    from flask import render_template

    from portal.access import allow

    @allow("elder")
    def perf_floor():
        return render_template("base.html")

    app.add_url_rule("/perf-floor", "perf_floor", perf_floor)


def post_text(app, client, phone: str):
    """A signed inbound text from the elder, as Twilio posts it."""
    import run

    from portal.channels.twilio_hooks import sign

    params = {"MessageSid": f"SMperf{time.time_ns()}", "From": phone, "To": "+8610000000000", "Body": "你好"}
    url = f"{app.config['LINLI_PUBLIC_URL']}/twilio/sms"
    return client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": sign(url, params, run.TWILIO_TOKEN),
                                                             "User-Agent": UA})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--pages", default="")
    parser.add_argument("--profile", default="")
    args = parser.parse_args()
    os.environ.setdefault("LINLI_INSTANCE_PATH", "/tmp/perf_instance")
    os.environ["LINLI_DATABASE_URL"] = args.url
    os.environ.setdefault("LINLI_SECRET_KEY", "perf-secret")
    os.environ.setdefault("LINLI_LOG_LEVEL", "WARNING")
    import logging

    import run  # the benchmark's own account set-up (read only)

    context = run.prepare_accounts(args.url)
    from portal import create_app

    app = create_app({"LINLI_DEV_TOOLS": False, "TWILIO_AUTH_TOKEN": run.TWILIO_TOKEN, "LINLI_SENDER": "process"})
    logging.disable(logging.WARNING)
    add_floor_page(app)
    pages = {
        "healthz": (None, "/healthz"),
        "floor": ("elder", "/perf-floor"),
        "elder-home": ("elder", "/elder/"),
        "elder-service": ("elder", "/elder/service/meal"),
        "request-step": ("elder", "/requests/step"),
        "request-status": ("elder", f"/requests/{context.request_reference}"),
        "feed": ("volunteer", "/volunteer/requests/"),
        "statement": ("volunteer", context.statement),
        "officer-visits": ("officer", "/officer/visits/"),
        "officer": ("officer", "/officer/"),
        "completion": ("worker", f"/worker/completion/?community={context.community_id}"),
        "worker-list": ("worker", f"/worker/?community={context.community_id}"),
        "worker-detail": ("worker", f"/worker/elders/{context.elder_id}"),
        "webhook": (None, "/twilio/sms"),
    }
    primes = {"request-step": "/requests/new?service=meal"}
    chosen = ["healthz"] + [name for name in (args.pages.split(",") if args.pages else pages) if name != "healthz"]
    clients = {}
    results = {}
    cpu_times = {}  # this process's CPU per request (p50): the app's own work, without waiting on a busy machine
    for name in chosen:
        role, url = pages[name]
        if role not in clients:
            clients[role] = app.test_client()
            if role:
                sign_in(app, clients[role], context.phones[role])
        client = clients[role]
        if name in primes:
            client.get(primes[name], headers={"User-Agent": UA})
        fetch = (lambda: post_text(app, client, context.phones["elder"])) if name == "webhook" else \
            (lambda url=url: client.get(url, headers={"User-Agent": UA}))
        response = fetch()
        assert response.status_code == 200, (name, response.status_code, response.headers.get("Location"))
        times, cpu = [], []
        for _ in range(args.requests):
            started, started_cpu = time.perf_counter(), time.thread_time()
            fetch()
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - started_cpu) * 1000)
        times.sort()
        results[name] = times
        cpu_times[name] = statistics.median(cpu)
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        ratio = statistics.median(times) / statistics.median(results["healthz"])
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(f"{name:16} p50 {statistics.median(times):7.1f} ms  p95 {p95:7.1f} ms  p99 {p99:7.1f} ms  "
              f"×{ratio:5.1f} /healthz   CPU p50 {cpu_times[name]:6.2f} ms ×{cpu_times[name] / cpu_times['healthz']:5.1f}",
              flush=True)
        if name == args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(int(os.environ.get("PERF_PROFILE_REQUESTS", "5"))):
                fetch()
            profile.disable()
            pstats.Stats(profile).sort_stats(os.environ.get("PERF_SORT", "cumulative")).print_stats(int(os.environ.get("PERF_LINES", "30")))


if __name__ == "__main__":
    main()
