"""A fake of Twilio's REST API on loopback: records every request and answers from a script."""
from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class FakeTwilio:
    """`down` answers 500 (or `down_status`); `delay_next` holds one response (for time-outs),
    `delay_every` holds every one (a slow provider); otherwise 201. GET on Messages.json / Calls.json
    lists what was created, filtered by To (Twilio's list, for looking up a timed-out send).
    `call_answers` scripts the outcome of the next calls ("busy", "no-answer", "machine", "human")."""

    def __init__(self):
        self.requests: list[dict] = []
        self.created: list[dict] = []
        self.down = False
        self.down_status = 500
        self.delay_next = 0.0
        self.delay_every = 0.0
        self.call_answers: list[str] = []
        self._lock = threading.Lock()
        self._count = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args):
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                kind = "Calls.json" if parts.path.endswith("/Calls.json") else "Messages.json"
                with fake._lock:
                    fake.requests.append({"path": self.path, "method": "GET", "form": query})
                    found = [c for c in fake.created if c["path"].endswith(kind)
                             and c["form"].get("To") == query.get("To")]
                key = "calls" if kind == "Calls.json" else "messages"
                items = [{"sid": c["sid"], "to": c["form"].get("To"), "body": c["form"].get("Body"),
                          "status": "sent", "date_created": format_datetime(c["at"]),
                          "account_sid": "AC" + "0" * 32} for c in reversed(found)]
                self._answer(200, {key: items, "next_page_uri": None, "page": 0, "page_size": 50,
                                   "uri": parts.path, "first_page_uri": parts.path})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                with fake._lock:
                    fake.requests.append({"path": self.path, "form": form})
                    delay, fake.delay_next = fake.delay_next or fake.delay_every, 0.0
                    down, status = fake.down, fake.down_status
                if delay:
                    time.sleep(delay)
                if down:
                    self._answer(status, {"code": 20500 if status >= 500 else 21211,
                                          "message": "fake outage", "status": status})
                    return
                with fake._lock:
                    fake._count += 1
                    prefix = "CA" if self.path.endswith("/Calls.json") else "SM"
                    sid = f"{prefix}{fake._count:032x}"
                    answer = fake.call_answers.pop(0) if prefix == "CA" and fake.call_answers else None
                    fake.created.append({"sid": sid, "path": self.path, "form": form, "after_delay": bool(delay),
                                         "at": datetime.now(timezone.utc), "answer": answer,
                                         "monotonic": time.monotonic()})
                self._answer(201, {"sid": sid, "status": "queued", "to": form.get("To"), "from": form.get("From"),
                                   "body": form.get("Body"), "account_sid": "AC" + "0" * 32,
                                   "date_created": "Sun, 22 Nov 2026 10:00:00 +0000"})

            def _answer(self, status: int, payload: dict):
                body = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a time-out)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_exc):
        self.server.shutdown()
        self.server.server_close()

    def bodies_created(self) -> list[str]:
        return [c["form"].get("Body") for c in self.created if "Body" in c["form"]]
