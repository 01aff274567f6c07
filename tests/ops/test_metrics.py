import re

from sqlalchemy import inspect, text

from portal.db import utcnow
from portal.models import OutboundMessage

REMOTE = {"REMOTE_ADDR": "203.0.113.9"}


def metric(body: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", body, re.M)
    assert match, f"{name}{labels} not in /metrics"
    return float(match.group(1))


def test_metrics_from_loopback_count_requests_and_messages(client, session):
    session.add_all([
        OutboundMessage(to_phone="+8613800000001", body="a", status="queued"),
        OutboundMessage(to_phone="+8613800000002", body="b", status="queued"),
        OutboundMessage(to_phone="+8613800000003", body="c", status="failed"),
        OutboundMessage(to_phone="+8613800000004", body="d", status="delivered"),
    ])
    session.commit()
    before = client.get("/metrics").get_data(as_text=True)
    start = _value_or_zero(before, 'linli_http_requests_total{endpoint="main.healthz",method="GET",status="200"}')
    client.get("/healthz")
    client.get("/healthz")
    body = client.get("/metrics").get_data(as_text=True)
    assert metric(body, "linli_http_requests_total", '{endpoint="main.healthz",method="GET",status="200"}') == start + 2
    assert "linli_http_request_duration_seconds_bucket" in body
    assert metric(body, "linli_outbound_messages", '{status="queued"}') == 2
    assert metric(body, "linli_outbound_messages", '{status="failed"}') == 1
    assert "13800000001" not in body


def _value_or_zero(body, series):
    match = re.search(rf"^{re.escape(series)} (\S+)$", body, re.M)
    return float(match.group(1)) if match else 0.0


def test_metrics_refused_from_outside_without_the_token(client):
    assert client.get("/metrics", environ_base=REMOTE).status_code == 404
    # Loopback but forwarded by a proxy: a remote client really.
    assert client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 404


def test_metrics_with_the_bearer_token(app_config, app):
    app.config["LINLI_METRICS_TOKEN"] = "scrape-token-0123456789"
    client = app.test_client()
    ok = client.get("/metrics", environ_base=REMOTE, headers={"Authorization": "Bearer scrape-token-0123456789"})
    assert ok.status_code == 200 and ok.mimetype == "text/plain"
    wrong = client.get("/metrics", environ_base=REMOTE, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 404


def test_obligation_and_heartbeat_figures_appear_once_their_tables_exist(app, client, engine):
    tables = set(inspect(engine).get_table_names())
    body = client.get("/metrics").get_data(as_text=True)
    if "visit_obligations" not in tables:
        assert "linli_visit_obligations" not in body
    created = []
    with engine.begin() as conn:
        if "visit_obligations" not in tables:
            conn.execute(text("CREATE TABLE visit_obligations (id INTEGER PRIMARY KEY, status VARCHAR(16))"))
            conn.execute(text("INSERT INTO visit_obligations VALUES (1, 'due'), (2, 'missed'), (3, 'missed'), (4, 'done')"))
            created.append("visit_obligations")
        if "scheduler_heartbeats" not in tables and "scheduler_heartbeat" not in tables:
            conn.execute(text("CREATE TABLE scheduler_heartbeats (id INTEGER PRIMARY KEY, beat_at TIMESTAMP WITH TIME ZONE)"))
            conn.execute(text("INSERT INTO scheduler_heartbeats VALUES (1, :at)"), {"at": utcnow()})
            created.append("scheduler_heartbeats")
    try:
        body = client.get("/metrics").get_data(as_text=True)
        assert "linli_visit_obligations" in body
        assert "linli_scheduler_heartbeat_age_seconds" in body
        if "visit_obligations" in created:
            assert metric(body, "linli_visit_obligations", '{status="missed"}') == 2
            assert metric(body, "linli_visit_obligations", '{status="due"}') == 1
        if "scheduler_heartbeats" in created:
            assert 0 <= metric(body, "linli_scheduler_heartbeat_age_seconds") < 60
    finally:
        with engine.begin() as conn:
            for name in created:
                conn.execute(text(f"DROP TABLE {name}"))
