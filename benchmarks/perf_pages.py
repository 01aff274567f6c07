#!/usr/bin/env python3
"""Time signed-in pages in-process (Flask test client, no HTTP) on a seeded database, against
/healthz in the same run; optionally with a profile of one page. Prints figures, asserts nothing.

    .venv/bin/python benchmarks/perf_pages.py URL [--requests 30] [--pages officer-visits,feed] [--profile PAGE]
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

    app = create_app({"LINLI_DEV_TOOLS": False})
    logging.disable(logging.WARNING)
    pages = {
        "healthz": (None, "/healthz"),
        "elder-home": ("elder", "/elder/"),
        "feed": ("volunteer", "/volunteer/requests/"),
        "statement": ("volunteer", context.statement),
        "officer-visits": ("officer", "/officer/visits/"),
        "officer": ("officer", "/officer/"),
        "completion": ("worker", f"/worker/completion/?community={context.community_id}"),
        "worker-list": ("worker", f"/worker/?community={context.community_id}"),
        "worker-detail": ("worker", f"/worker/elders/{context.elder_id}"),
    }
    chosen = ["healthz"] + [name for name in (args.pages.split(",") if args.pages else pages) if name != "healthz"]
    clients = {}
    results = {}
    for name in chosen:
        role, url = pages[name]
        if role not in clients:
            clients[role] = app.test_client()
            if role:
                sign_in(app, clients[role], context.phones[role])
        client = clients[role]
        response = client.get(url, headers={"User-Agent": UA})
        assert response.status_code == 200, (name, response.status_code, response.headers.get("Location"))
        times = []
        for _ in range(args.requests):
            started = time.perf_counter()
            client.get(url, headers={"User-Agent": UA})
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        results[name] = times
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        ratio = statistics.median(times) / statistics.median(results["healthz"])
        print(f"{name:16} p50 {statistics.median(times):7.1f} ms  p95 {p95:7.1f} ms  ×{ratio:5.1f} /healthz",
              flush=True)
        if name == args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(5):
                client.get(url, headers={"User-Agent": UA})
            profile.disable()
            pstats.Stats(profile).sort_stats(os.environ.get("PERF_SORT", "cumulative")).print_stats(30)


if __name__ == "__main__":
    main()
