"""A fake of Twilio's REST API on loopback: records every request and answers from a script."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class FakeTwilio:
    """`down` answers 500 (or `down_status`); `delay` holds a response (for time-outs); otherwise 201."""

    def __init__(self):
        self.requests: list[dict] = []
        self.created: list[dict] = []
        self.down = False
        self.down_status = 500
        self.delay_next = 0.0
        self._lock = threading.Lock()
        self._count = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                with fake._lock:
                    fake.requests.append({"path": self.path, "form": form})
                    delay, fake.delay_next = fake.delay_next, 0.0
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
                    fake.created.append({"sid": sid, "path": self.path, "form": form, "after_delay": bool(delay)})
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
