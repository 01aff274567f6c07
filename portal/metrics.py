"""Prometheus metrics at /metrics: requests, the outbox, obligations and the scheduler heartbeat.

Request counters and latency histograms live in this process (or, under gunicorn with
PROMETHEUS_MULTIPROC_DIR set, in prometheus_client's shared files so every worker is counted).
Figures from the database are read at scrape time from the models: OutboundMessage,
VisitObligation (portal/models/compliance.py) and SchedulerHeartbeat.
"""
from __future__ import annotations

import hmac
import ipaddress
import os
import time
from datetime import datetime, timezone

from flask import Blueprint, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from portal.access import public

bp = Blueprint("metrics", __name__)

REQUESTS = Counter("linli_http_requests_total", "HTTP requests by endpoint, method and status",
                   ["endpoint", "method", "status"])
LATENCY = Histogram("linli_http_request_duration_seconds", "Request latency by endpoint", ["endpoint"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))



def init_request_metrics(app) -> None:
    @app.before_request
    def _metrics_start():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _metrics_count(response):
        started = g.pop("metrics_started", None)
        # Unknown URLs share one label so that scanners cannot blow up the label set.
        endpoint = request.endpoint or "unmatched"
        if started is not None and endpoint not in ("static", "metrics.metrics"):
            REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
            LATENCY.labels(endpoint).observe(time.perf_counter() - started)
        return response


class DatabaseCollector:
    """Gauges read from the database at scrape time (three small aggregate queries)."""

    def __init__(self, engine, now: datetime):
        self.engine = engine
        self.now = now

    def collect(self):
        from portal.models import OutboundMessage, SchedulerHeartbeat, VisitObligation

        with self.engine.connect() as conn:
            messages = GaugeMetricFamily("linli_outbound_messages", "Outbound texts and calls by status",
                                         labels=["status"])
            wanted = ("queued", "sending", "failed", "undelivered")
            counts = dict(conn.execute(
                select(OutboundMessage.status, func.count()).where(OutboundMessage.status.in_(wanted))
                .group_by(OutboundMessage.status)).all())
            for status in wanted:
                messages.add_metric([status], counts.get(status, 0))
            yield messages
            # Obligations of periods not yet over (due, upcoming) and every missed one, by status.
            obligations = GaugeMetricFamily("linli_visit_obligations",
                                            "Visit obligations by status (due and upcoming: periods not yet over)",
                                            labels=["status"])
            counts = dict(conn.execute(
                select(VisitObligation.status, func.count()).where(VisitObligation.status.in_(("due", "upcoming",
                                                                                               "missed")))
                .group_by(VisitObligation.status)).all())
            for status in ("due", "upcoming", "missed"):
                obligations.add_metric([status], counts.get(status, 0))
            yield obligations
            overdue = GaugeMetricFamily("linli_visit_obligations_overdue",
                                        "Open obligations whose due time has passed")
            overdue.add_metric([], conn.execute(
                select(func.count()).select_from(VisitObligation)
                .where(VisitObligation.status == "due", VisitObligation.due_at <= self.now)).scalar_one())
            yield overdue
            last = conn.execute(select(func.max(SchedulerHeartbeat.beat_at))).scalar()
            age = GaugeMetricFamily("linli_scheduler_heartbeat_age_seconds",
                                    "Seconds since the scheduler's last heartbeat (-1: never)")
            age.add_metric([], _age_seconds(last, self.now))
            yield age


def _age_seconds(last, now: datetime) -> float:
    if last is None:
        return -1.0
    if isinstance(last, str):
        last = datetime.fromisoformat(last)
    if last.tzinfo is None:
        last = last.replace(tzinfo=timezone.utc)
    return max(0.0, (now - last).total_seconds())


def _is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def scrape_allowed() -> bool:
    """A matching bearer token, or a direct request from this machine.

    A request forwarded by a proxy on the same machine also arrives from loopback: when it
    carries X-Forwarded-For it is treated as remote (see docs/deploy.md, the proxy blocks /metrics).
    """
    token = current_app.config.get("LINLI_METRICS_TOKEN") or ""
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), token):
        return True
    forwarded = request.headers.get("X-Forwarded-For") or request.headers.get("Forwarded")
    return not forwarded and _is_loopback(request.remote_addr)


@bp.route("/metrics")
@public  # guarded below: a bearer token or loopback; anything else gets a 404
def metrics():
    if not scrape_allowed():
        abort(404)
    from portal.db import utcnow

    output = b""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        output += generate_latest(registry)
    else:
        from prometheus_client import REGISTRY

        output += generate_latest(REGISTRY)
    database = CollectorRegistry(auto_describe=False)
    database.register(DatabaseCollector(current_app.extensions["linli"].engine, utcnow()))
    try:
        output += generate_latest(database)
    except Exception:
        current_app.logger.exception("metrics: database figures unavailable")
        output += b"# database figures unavailable\n"
    return Response(output, mimetype=CONTENT_TYPE_LATEST)
