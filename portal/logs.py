"""Structured logs without personal data: JSON lines, masked phone numbers, a request id per request.

One handler on the root logger carries the masking filter, so every logger (Flask, SQLAlchemy,
the transports, gunicorn's error log) goes through it. Request bodies are never logged: the
request line records method, path without the query string, status and duration only.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone

# E.164 (+ and 8–15 digits) and 11-digit Chinese mobiles (1[3-9]…), not inside longer digit runs.
_E164 = re.compile(r"(?<![\w+])\+(\d{8,15})(?!\d)")
_CN_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
HANDLER_MARK = "linli_handler"


def mask_personal_data(text: str) -> str:
    """Phone numbers keep their first and last digits only: +86138****0001, 138****0001."""
    text = _E164.sub(lambda m: f"+{m.group(1)[:-8]}****{m.group(1)[-4:]}", text)
    return _CN_MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def escape_line_breaks(text: str) -> str:
    """One record, one line: CR, LF and every other control or separator character is written as an
    escape, so a request path such as `/x%0d%0a…` cannot forge a line of its own."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _current_request_id() -> str | None:
    try:
        from flask import g, has_request_context
    except ImportError:  # pragma: no cover
        return None
    if has_request_context():
        return g.get("request_id")
    return None


class PersonalDataFilter(logging.Filter):
    """Masks phone numbers in the rendered message and the traceback; adds the request id."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = str(record.msg)
        record.msg = mask_personal_data(escape_line_breaks(message))
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal_data(record.exc_text)
            record.exc_info = None  # the masked text is what gets printed
        if not getattr(record, "request_id", None):
            record.request_id = _current_request_id()
        return True


# Fields a log call may add with extra={...}; anything else (bodies, forms) is never written.
ALLOWED_EXTRA = ("request_id", "method", "path", "status", "duration_ms", "endpoint", "job", "event")


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in ALLOWED_EXTRA:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = escape_line_breaks(value) if isinstance(value, str) else value
        if record.exc_text:
            entry["exc"] = record.exc_text
        elif record.exc_info:
            entry["exc"] = mask_personal_data(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")


def make_handler(stream=None, fmt: str = "json") -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(PersonalDataFilter())
    return handler


def configure_logging(fmt: str, level: str = "INFO") -> None:
    """Install (once per process) the masking handler on the root logger."""
    root = logging.getLogger()
    for existing in root.handlers:
        if getattr(existing, HANDLER_MARK, False):
            existing.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
            break
    else:
        handler = make_handler(fmt=fmt)
        setattr(handler, HANDLER_MARK, True)
        root.addHandler(handler)
    root.setLevel(level)


request_log = logging.getLogger("linli.request")


def init_request_logging(app) -> None:
    """A request id per request (kept from a sane X-Request-ID, else new) and one line per request."""
    from flask import g, request

    @app.before_request
    def _start_request():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response):
        started = g.get("request_started")
        if g.get("request_id"):
            response.headers.setdefault("X-Request-ID", g.request_id)
        if started is not None and request.endpoint != "static":
            # request.path has no query string: queries may carry a phone number or a search term.
            request_log.info(
                "%s %s %s", request.method, request.path, response.status_code,
                extra={"method": request.method, "path": request.path, "status": response.status_code,
                       "endpoint": request.endpoint,
                       "duration_ms": round((time.perf_counter() - started) * 1000, 1)},
            )
        return response
