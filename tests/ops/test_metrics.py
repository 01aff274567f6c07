import re

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


def test_obligation_and_heartbeat_figures_come_from_the_real_tables(client, session, world):
    from datetime import timedelta

    from portal.models import SchedulerHeartbeat, VisitObligation
    from tests.factories import make_elder

    now = utcnow()
    community = world.community_a
    before = client.get("/metrics").get_data(as_text=True)
    assert metric(before, "linli_scheduler_heartbeat_age_seconds") == -1  # the scheduler never beat
    base = {status: metric(before, "linli_visit_obligations", f'{{status="{status}"}}')
            for status in ("due", "upcoming", "missed")}
    overdue_before = metric(before, "linli_visit_obligations_overdue")
    statuses = [("due", now - timedelta(days=1)), ("due", now + timedelta(days=3)), ("missed", now),
                ("missed", now), ("done", now), ("upcoming", now + timedelta(days=9))]
    for i, (status, due_at) in enumerate(statuses):
        elder = make_elder(session, community, f"指标老人{'甲乙丙丁戊己'[i]}")
        session.add(VisitObligation(elder_id=elder.person_id, period="2026-11", cadence="monthly",
                                    tier="special_hardship", community_id=community.id,
                                    window_start=now - timedelta(days=20), due_at=due_at,
                                    window_end=now + timedelta(days=10), status=status))
    session.add(SchedulerHeartbeat(name="scheduler", beat_at=now - timedelta(seconds=30), host="test"))
    session.commit()

    body = client.get("/metrics").get_data(as_text=True)
    assert metric(body, "linli_visit_obligations", '{status="due"}') == base["due"] + 2
    assert metric(body, "linli_visit_obligations", '{status="missed"}') == base["missed"] + 2
    assert metric(body, "linli_visit_obligations", '{status="upcoming"}') == base["upcoming"] + 1
    assert metric(body, "linli_visit_obligations_overdue") == overdue_before + 1
    assert 30 <= metric(body, "linli_scheduler_heartbeat_age_seconds") < 90
