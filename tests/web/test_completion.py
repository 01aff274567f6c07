"""The worker's visit-completion list, the officer's dashboard, downloads, sheets and the banner."""
from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import func, select

from jobs.runner import beat, run_job
from portal.clock import local_tz
from portal.db import utcnow
from portal.models import AuditEvent, Person, VisitObligation, VolunteerProfile
from portal.services.people import pair
from tests.factories import PASSWORD, make_elder, make_volunteer
from tests.jobs.test_compliance_month import verify_visit
from tests.pages import elements, facts


def visit_time() -> datetime:
    """A moment of this month (in Shanghai, as the pages count it) a few minutes ago: five minutes
    back, but never into last month (the pages read the real clock, so the month is the real one)."""
    now = utcnow()
    month_start = now.astimezone(local_tz()).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return max(now - timedelta(minutes=5), month_start)


def status_tag(html: str, obligation_id: int) -> str:
    """The status tag a worker reads on an obligation's row (the last .tag of its first line)."""
    row = elements(html, "li", id=f"obligation-{obligation_id}")
    assert row, f"no row for obligation {obligation_id}"
    start = html.index(f'id="obligation-{obligation_id}"')
    first_line = html[start:html.index("</p>", start)]
    return [e["text"] for e in elements(first_line, "span", cls="tag")][-1]


def _plan(app, session, world):
    elder = make_elder(session, world.community_a, "孙奶奶", living_situation="with_family",
                       hardship=["low_income"], birth_date=date(1950, 3, 1))
    other = make_elder(session, world.community_a, "钱爷爷", living_situation="with_family",
                       hardship=["low_income"], birth_date=date(1951, 3, 1))
    pair(session, world.volunteer_a, elder, world.worker_a)
    session.commit()
    run_job(app.extensions["linli"].session_factory, "plan-visits", utcnow())
    return elder, other


def test_worker_sees_due_elders_and_reassigns_in_place(app, session, world, browser):
    elder, other = _plan(app, session, world)
    second = make_volunteer(session, world.community_a, "丁志愿者", verified_by=world.worker_a)
    session.commit()
    browser.login(world.worker_a.phone, PASSWORD)
    html = browser.get("/worker/completion/").get_data(as_text=True)
    assert "孙奶奶" in html and "甲志愿者" in html and "乙老人" not in html
    assert elder.person.phone not in html and "****" in html          # masked phones
    assert "上个月" in html or "Previous month" in html
    ob = session.scalar(select(VisitObligation).where(VisitObligation.elder_id == other.person_id,
                                                      VisitObligation.period.like("____-__")))
    response = browser.post(f"/worker/completion/{ob.id}/assign", {"assignee": str(second.person_id)},
                            page="/worker/completion/", headers={"HX-Request": "true", "HX-Target": f"obligation-{ob.id}"})
    part = response.get_data(as_text=True)
    assert response.status_code == 200 and part.strip().startswith("<li") and "丁志愿者" in part
    session.expire_all()
    assert session.get(VisitObligation, ob.id).assigned_to_id == second.person_id
    # without JavaScript: a plain form post and a redirect back
    response = browser.post(f"/worker/completion/{ob.id}/assign", {"assignee": str(world.volunteer_a.person_id)},
                            page="/worker/completion/")
    assert response.status_code == 303
    # someone from another community is refused with a clear message
    outsider = make_volunteer(session, world.community_b, "外社区志愿者", verified_by=world.worker_b)
    session.commit()
    response = browser.post(f"/worker/completion/{ob.id}/assign", {"assignee": str(outsider.person_id)},
                            page="/worker/completion/", follow_redirects=True)
    assert "请选择本社区已核实的志愿者" in response.get_data(as_text=True)
    # an obligation in another community does not exist for this worker
    theirs = session.scalar(select(VisitObligation).where(VisitObligation.elder_id == world.elder_b.person_id))
    assert browser.post(f"/worker/completion/{theirs.id}/assign", {"assignee": "1"}, page="/worker/completion/").status_code == 404


def test_previous_month_and_bad_period(app, session, world, browser):
    _plan(app, session, world)
    browser.login(world.worker_a.phone, PASSWORD)
    html = browser.get("/worker/completion/?period=2025-01").get_data(as_text=True)
    assert "2025-01" in html and "孙奶奶" not in html
    html = browser.get("/worker/completion/?period=2999-01", follow_redirects=True).get_data(as_text=True)
    assert "还没有开始" in html
    html = browser.get("/worker/completion/report.csv?period=abc", follow_redirects=True).get_data(as_text=True)
    assert "YYYY-MM" in html


def test_downloads_and_visit_sheet_are_audited_and_never_show_door_codes(app, session, world, browser):
    elder, _other = _plan(app, session, world)
    browser.login(world.worker_a.phone, PASSWORD)
    response = browser.get("/worker/completion/report.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet["A1"].value == "街道/乡镇" and sheet["H1"].value == "探访率"
    assert sheet["B2"].value == "甲社区"
    sheet_html = browser.get(f"/worker/completion/sheet?volunteer={world.volunteer_a.person_id}").get_data(as_text=True)
    assert "孙奶奶" in sheet_html and elder.address in sheet_html and "签名" in sheet_html
    visible = re.sub(r'value="[^"]*"|"X-CSRFToken": "[^"]*"', "", sheet_html)
    assert elder.door_code not in visible and "乙老人" not in visible
    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == world.worker_a.id)))
    assert {"export", "print"} <= actions


def test_verified_visit_turns_the_row_done_and_the_rate_rises(app, session, world, browser):
    elder, _other = _plan(app, session, world)
    browser.login(world.worker_a.phone, PASSWORD)
    before = browser.get("/worker/completion/").get_data(as_text=True)
    assert facts(before, "summary")["探访率"] == "0% (0/2)"
    verify_visit(session, elder.person_id, world.volunteer_a.person_id, visit_time())
    after = browser.get("/worker/completion/").get_data(as_text=True)
    assert facts(after, "summary")["探访率"] == "50% (1/2)"


def test_deactivating_a_volunteer_reassigns_their_visits(app, session, world, browser):
    elder, _other = _plan(app, session, world)
    browser.login(world.worker_a.phone, PASSWORD)
    response = browser.post(f"/worker/completion/volunteers/{world.volunteer_a.person_id}/deactivate", {},
                            page="/worker/completion/volunteers")
    assert response.status_code == 303
    session.expire_all()
    ob = session.scalar(select(VisitObligation).where(VisitObligation.elder_id == elder.person_id,
                                                      VisitObligation.period.like("____-__")))
    assert ob.assigned_to_id == world.worker_a.id
    assert session.get(VolunteerProfile, world.volunteer_a.person_id).active is False


def test_major_event_form(app, session, world, browser):
    browser.login(world.worker_a.phone, PASSWORD)
    url = f"/worker/completion/elders/{world.elder_a.person_id}/event"
    bad = browser.post(url, {"kind": "fall", "occurred_at": "2999-01-01T10:00", "note": "楼梯"})
    html = bad.get_data(as_text=True)
    # an invalid form comes back with 200 (htmx 2 swaps no 4xx), a summary, the field marked, the answers kept
    assert bad.status_code == 200 and "不能是将来" in html and 'class="error-summary"' in html
    assert 'href="#occurred_at"' in html and 'aria-invalid="true"' in html and 'value="楼梯"' in html
    assert 'value="fall" checked' in html
    assert browser.post(url, {"occurred_at": "2026-01-01T10:00"}).status_code == 200
    # the form takes the worker's local time (Shanghai), whatever the host's time zone
    when = (utcnow() - timedelta(hours=2)).astimezone(local_tz()).strftime("%Y-%m-%dT%H:%M")
    assert browser.post(url, {"kind": "fall", "occurred_at": when}).status_code == 303
    assert session.scalar(select(func.count()).select_from(VisitObligation)
                          .where(VisitObligation.cadence == "event")) == 1
    assert browser.get(f"/worker/completion/elders/{world.elder_b.person_id}/event").status_code == 404


def test_officer_dashboard(app, session, world, browser):
    elder, _other = _plan(app, session, world)
    verify_visit(session, elder.person_id, world.volunteer_a.person_id, visit_time())
    browser.login(world.officer.phone, PASSWORD)
    assert "/officer/visits/" in browser.get("/officer/").get_data(as_text=True)
    html = browser.get("/officer/visits/").get_data(as_text=True)
    assert "<svg" in html and "甲社区" in html and "乙社区" in html and "甲街道" in html
    assert "钱爷爷" in html          # never visited: listed as over 30 days
    assert "50%" in html
    response = browser.get("/officer/visits/report.csv")
    assert response.status_code == 200 and "甲社区" in response.data.decode("utf-8-sig")
    browser.logout()
    browser.login(world.worker_a.phone, PASSWORD)
    assert browser.get("/officer/visits/").status_code == 403


def test_scheduler_banner_for_workers(app, session, world, browser):
    browser.login(world.worker_a.phone, PASSWORD)
    assert "调度程序" in browser.get("/worker/").get_data(as_text=True)
    beat(app.extensions["linli"].session_factory)
    assert "调度程序" not in browser.get("/worker/").get_data(as_text=True)


def test_demo_wang_xiuying_is_due_for_li_na_then_done(app, session, browser):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    result = runner.invoke(args=["jobs", "run", "plan-visits"])
    assert result.exit_code == 0, result.output
    from portal.services.demo import DEMO_PASSWORD

    browser.login("+8613800000004", DEMO_PASSWORD)
    html = browser.get("/worker/completion/").get_data(as_text=True)
    seen_at = utcnow()
    wang = session.scalar(select(Person).where(Person.phone == "+8613800000001"))
    li_na = session.scalar(select(Person).where(Person.phone == "+8613800000003"))
    ob = session.scalar(select(VisitObligation).where(VisitObligation.elder_id == wang.id,
                                                      VisitObligation.period.like("____-__")))
    start = html.index(f'id="obligation-{ob.id}"')
    row = html[start:html.index("</li>", start)]
    assert "王秀英" in row and "李娜" in row
    # the tag the page shows for this obligation at this moment (overdue once its due time has passed)
    expected = "已逾期" if ob.due_at.replace(tzinfo=seen_at.tzinfo) <= seen_at else {
        "due": "待探访", "upcoming": "即将开始"}[ob.status]
    assert status_tag(html, ob.id) == expected
    report_before = runner.invoke(args=["report", "visits"]).output
    verify_visit(session, wang.id, li_na.id, visit_time())
    html = browser.get("/worker/completion/").get_data(as_text=True)
    assert status_tag(html, ob.id) == "完成"
    report_after = runner.invoke(args=["report", "visits"]).output
    line = lambda text: next(l for l in text.splitlines() if "燕京社区" in l).split(",")
    assert int(line(report_after)[3]) == int(line(report_before)[3]) + 1


def test_list_rows_share_one_token_and_translated_texts(app, session, world, browser):
    elder, _other = _plan(app, session, world)
    second = make_volunteer(session, world.community_a, "丁志愿者", verified_by=world.worker_a)
    session.commit()
    browser.login(world.worker_a.phone, PASSWORD)
    html = browser.get("/worker/completion/?community=" + str(world.community_a.id)).get_data(as_text=True)
    rows = re.findall(r'<li class="card visit[^"]*" id="obligation-(\d+)">(.*?)</li>', html, re.DOTALL)
    assert len(rows) == 3                                    # with 甲老人 of the world (weekly)
    for obligation_id, row in rows:
        assert f'action="/worker/completion/{obligation_id}/assign"' in row
        assert f'action="/worker/completion/{obligation_id}/excuse"' in row
        assert 'name="back" value="/worker/completion/?community=' in row
        assert "改派" in row or "Reassign" in row
        assert '<option value="in_hospital">' in row
    # the paired volunteer is selected on her elder's row, and the new volunteer is offered on every row
    row = dict(rows)[str(session.scalar(select(VisitObligation.id).where(
        VisitObligation.elder_id == elder.person_id, VisitObligation.period.like("____-__"))))]
    assert f'<option value="{world.volunteer_a.person_id}" selected>甲志愿者</option>' in row
    assert all(f'<option value="{second.person_id}">丁志愿者</option>' in r for _i, r in rows)
    tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"', html))
    assert len(tokens) == 1


def test_htmx_list_partial_and_row_partial(app, session, world, browser):
    _elder, other = _plan(app, session, world)
    browser.login(world.worker_a.phone, PASSWORD)
    part = browser.get("/worker/completion/", headers={"HX-Request": "true", "HX-Target": "visit-list"})
    text = part.get_data(as_text=True)
    assert part.status_code == 200 and text.strip().startswith("<ul") and "<html" not in text
    ob = session.scalar(select(VisitObligation).where(VisitObligation.elder_id == other.person_id,
                                                      VisitObligation.period.like("____-__")))
    # a refused reassignment in place: the row again, status 200, with the message
    response = browser.post(f"/worker/completion/{ob.id}/assign", {"assignee": "nobody"}, page="/worker/completion/",
                            headers={"HX-Request": "true", "HX-Target": f"obligation-{ob.id}"})
    row = response.get_data(as_text=True)
    assert response.status_code == 200 and row.strip().startswith("<li") and 'role="alert"' in row
    assert 'name="back" value="/worker/completion/"' in row


def test_scheduler_status_uses_the_policy_minutes(app, session):
    from portal.services.scheduler_status import scheduler_silent

    now = utcnow()
    assert scheduler_silent(session, now)                                  # never a heartbeat
    beat(app.extensions["linli"].session_factory, now)
    session.expire_all()
    assert not scheduler_silent(session, now + timedelta(minutes=9))
    assert scheduler_silent(session, now + timedelta(minutes=11))            # policy: 10 minutes
    assert not scheduler_silent(session, now + timedelta(minutes=11), minutes=20)


def test_compliance_receivers_are_connected_once_by_create_app(app):
    from portal.services.compliance import connect_receivers, receivers

    connect_receivers()
    connect_receivers()
    for signal, receiver in receivers.RECEIVERS:
        assert list(signal.receivers.values()).count(receiver) == 1


def test_web_and_services_point_one_way():
    """Blueprints import services, not jobs or other blueprints; compliance services import no Flask,
    no channels and no web."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]

    def imports(path: Path) -> set[str]:
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        return names

    for name in ("completion.py", "officer_visits.py", "downloads.py"):
        found = imports(root / "portal" / "web" / name)
        assert not any(n == "jobs" or n.startswith("jobs.") for n in found), name
        blueprints = {"portal.web.completion", "portal.web.officer_visits"} - {f"portal.web.{name[:-3]}"}
        assert not any(n.split(".")[:3] == b.split(".") for n in found for b in blueprints), name
    for path in [root / "portal" / "services" / "scheduler_status.py",
                 *(root / "portal" / "services" / "compliance").glob("*.py")]:
        found = imports(path)
        assert not any(n.split(".")[0] in ("flask", "flask_login", "flask_wtf") or
                       n.startswith(("portal.web", "portal.channels", "jobs")) for n in found), path.name
