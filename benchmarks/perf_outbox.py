#!/usr/bin/env python3
"""Outbox throughput: N texts queued, two `linli sender` processes against a loopback fake of
Twilio's Messages API (HTTP/1.1 keep-alive, as the real one); 5 emergency alerts are queued one
second in. Prints messages/s, how long the alerts waited behind the backlog, and duplicates.

    .venv/bin/python benchmarks/perf_outbox.py postgresql+psycopg://postgres@127.0.0.1:5432/linli_perf_outbox
    .venv/bin/python benchmarks/perf_outbox.py sqlite:////tmp/outbox.sqlite3 --messages 3000
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class Provider(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.received: list[tuple[float, str, str]] = []
        self.connections = 0
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Twilio's API

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        # headers and body leave as written (the real API answers in one TLS record): without this
        # Nagle holds the body until the client's delayed ACK, 40 ms a request
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.lock:
            self.server.connections += 1

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        with self.server.lock:
            self.server.received.append((time.monotonic(), form.get("To", ""), form.get("Body", "")))
            sid = f"SM{len(self.server.received):032d}"
        body = json.dumps({"sid": sid, "status": "queued", "to": form.get("To"), "from": form.get("From"),
                           "body": form.get("Body"), "account_sid": "ACfake", "num_segments": "1"}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--senders", type=int, default=2)
    parser.add_argument("--rate", type=float, default=1000.0, help="the provider's rate the senders are given")
    args = parser.parse_args()

    from sqlalchemy import func, select, text

    import portal.models  # noqa: F401
    from portal.db import Base, make_engine, make_session_factory, utcnow
    from portal.models import OutboundMessage
    from portal.services.outbox import enqueue

    engine = make_engine(args.url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    start = utcnow().replace(hour=3, minute=0)  # 11:00 in Shanghai: outside quiet hours
    with make_session_factory(engine)() as session:
        for i in range(args.messages):
            enqueue(session, f"+86139{i:08d}", f"通知 {i}", kind="notice", elder_quiet_hours=False,
                    now=start - timedelta(minutes=1))
        session.commit()
    provider = Provider()
    threading.Thread(target=provider.serve_forever, daemon=True).start()
    env = dict(os.environ, LINLI_DATABASE_URL=args.url, LINLI_SECRET_KEY="perf", LINLI_LOG_LEVEL="WARNING",
               LINLI_INSTANCE_PATH="/tmp/perf_instance", TWILIO_ACCOUNT_SID="ACfake", TWILIO_AUTH_TOKEN="token",
               TWILIO_FROM_NUMBER="+8612349", TWILIO_API_BASE=f"http://127.0.0.1:{provider.server_port}",
               LINLI_PUBLIC_URL="https://linli.example.org", LINLI_TRANSPORT="twilio",
               LINLI_PROVIDER_RATE_PER_SECOND=str(args.rate), LINLI_PROVIDER_BURST="50", LINLI_REDIS_URL="")
    began = time.monotonic()
    senders = [subprocess.Popen([str(ROOT / ".venv" / "bin" / "linli"), "sender", "--until-empty"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for _ in range(args.senders)]
    time.sleep(1.0)
    with make_session_factory(engine)() as session:
        for i in range(5):
            enqueue(session, f"+86138{i:08d}", f"紧急 {i}", emergency=True)
        session.commit()
    alerts_at = time.monotonic()
    for process in senders:
        output, _ = process.communicate(timeout=600)
        print("  " + output.strip().splitlines()[-1] if output.strip() else "  (no output)")
    received = provider.received
    bodies = Counter((to, body) for _at, to, body in received)
    twice = sum(1 for n in bodies.values() if n > 1)
    normal = [at for at, _to, body in received if "通知" in body]
    alerts = [at for at, _to, body in received if "紧急" in body]
    span = (max(normal) - min(normal)) if len(normal) > 1 else float("nan")
    with engine.connect() as conn:
        states = dict(conn.execute(select(OutboundMessage.status, func.count()).group_by(OutboundMessage.status)).all())
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT 1"))
    print(f"outbox: {len(received)} sent by {args.senders} senders in {time.monotonic() - began:.1f} s; "
          f"{len(normal) / span:.0f} messages/s between the first and the last; sent twice: {twice}; "
          f"provider connections: {provider.connections}; statuses {states}")
    if alerts:
        print(f"  emergency alerts: first out {(min(alerts) - alerts_at) * 1000:.0f} ms, last "
              f"{(max(alerts) - alerts_at) * 1000:.0f} ms after they were queued; "
              f"{sum(1 for at in normal if at > max(alerts))} ordinary texts still queued behind them")
    provider.shutdown()


if __name__ == "__main__":
    main()
