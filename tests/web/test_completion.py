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
from portal.models import AuditEvent, ElderProfile, Person, VisitObligation, VolunteerProfile
from portal.services.people import pair
from tests.factories import PASSWORD, make_elder, make_volunteer
from tests.jobs.test_compliance_month import verify_visit
from tests.pages import facts, text_of


def visit_time() -> datetime:
    """A moment of this month (in Shanghai, as the pages count it) a few minutes ago: five minutes
    back, but never into last month (the pages read the real clock, so the month is the real one)."""
    now = utcnow()
    month_start = now.astimezone(local_tz()).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return max(now - timedelta(minutes=5), month_start)


def _plan(app, session, world):
    elder = make_elder(session, world.community_a, "孙奶奶", living_situation="with_family",
                       hardship=["low_income"], birth_date=date(1950, 3, 1))
    other = make_elder(session, world.community_a, "钱爷爷", living_situation="with_family",
                       hardship=["low_income"], birth_date=date(1951, 3, 1))
    pair(session, world.volunteer_a, elder, world.worker_a)
    session.commit()
    run_job(app.extensions["linli"].session_factory, "plan-visits", utcnow())
    return elder, other


LINE = re.compile(r'<tbody id="obligation-(\d+)"[^>]*><tr class="s-(\w+)">.*?<th scope="row"><a [^>]*>([^<]+)</a>'
                  r'.*?</th><td>([^<]*)</td><td><span class="tag">([^<]*)</span></td><td>([^<]*)</td>', re.DOTALL)


def lines(html: str) -> list[dict]:
    """The completion table as a worker reads it: one line per elder."""
    return [dict(id=int(i), state=state, name=name, tier=tier, state_text=text, visitor=visitor)
            for i, state, name, tier, text, visitor in LINE.findall(html)]


def _monthly(session, elder_id):
    return session.scalar(select(VisitObligation).where(VisitObligation.elder_id == elder_id,
                                                        VisitObligation.period.like("____-__")))


def test_worker_sees_due_elders_and_reassigns_in_place(app, session, world, browser):
    elder, other = _plan(app, session, world)
    second = make_volunteer(session, world.community_a, "丁志愿者", verified_by=world.worker_a)
    session.commit()
    browser.login(world.worker_a.phone, PASSWORD)
    html = browser.get("/worker/completion/").get_data(as_text=True)
    seen = {line["name"]: line for line in lines(html)}
    assert seen["孙奶奶"]["visitor"] == "甲志愿者" and "乙老人" not in seen
    assert elder.person.phone not in html and "****" in html          # masked phones
    assert "上个月" in html
    ob = _monthly(session, other.person_id)
    # the row opens in place (htmx) with its actions, loaded only then
    opened = browser.get(f"/worker/completion/{ob.id}", headers={"HX-Request": "true", "HX-Target": f"obligation-{ob.id}"})
    part = opened.get_data(as_text=True)
    assert part.strip().startswith(f'<tbody id="obligation-{ob.id}"') and "<html" not in part
    assert f'action="/worker/completion/{ob.id}/assign"' in part and other.address in part
    response = browser.post(f"/worker/completion/{ob.id}/assign", {"assignee": str(second.person_id)},
                            page="/worker/completion/", headers={"HX-Request": "true", "HX-Target": f"obligation-{ob.id}"})
    part = response.get_data(as_text=True)
    # the swapped row names the new visitor, and the message names this elder and her new visitor
    assert response.status_code == 200 and lines(part)[0]["visitor"] == "丁志愿者"
    assert "钱爷爷将由丁志愿者探访" in part.replace(" ", "") and "撤销" in part
    session.expire_all()
    assert session.get(VisitObligation, ob.id).assigned_to_id == second.person_id
    # without JavaScript: a plain form post and a redirect back, the page offers the undo
    response = browser.post(f"/worker/completion/{ob.id}/assign", {"assignee": str(world.volunteer_a.person_id)},
                            page="/worker/completion/")
    assert response.status_code == 303
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert f'name="obligation" value="{ob.id}"' in page
    # someone from another community is refused with a clear message, beside the field, status 200
    outsider = make_volunteer(session, world.community_b, "外社区志愿者", verified_by=world.worker_b)
    session.commit()
    response = browser.post(f"/worker/completion/{ob.id}/assign", {"assignee": str(outsider.person_id)},
                            page="/worker/completion/")
    assert response.status_code == 200 and "请选择本社区已核实的志愿者" in response.get_data(as_text=True)
    # an obligation in another community does not exist for this worker
    theirs = session.scalar(select(VisitObligation).where(VisitObligation.elder_id == world.elder_b.person_id))
    assert browser.post(f"/worker/completion/{theirs.id}/assign", {"assignee": "1"}, page="/worker/completion/").status_code == 404
    assert browser.get(f"/worker/completion/{theirs.id}").status_code == 404


def test_the_reassign_list_names_each_person_once_in_chinese(app, session, world, browser):
    _elder, other = _plan(app, session, world)
    browser.login(world.worker_a.phone, PASSWORD)
    ob = _monthly(session, other.person_id)
    html = browser.get(f"/worker/completion/{ob.id}").get_data(as_text=True)
    select_html = html[html.index(f'id="assignee-{ob.id}"'):]
    select_html = select_html[:select_html.index("</select>")]
    options = re.findall(r'<option[^>]*value="(\d+)"[^>]*>([^<]+)</option>', select_html)
    assert len(options) == len({value for value, _name in options})
    names = [name for _value, name in options]
    assert "甲志愿者" in names and any(name.endswith("（社区工作人员）") for name in names)
    assert not any("worker" in name for name in names)


def test_filters_search_sort_and_paging(app, session, world, browser):
    elder, other = _plan(app, session, world)
    verify_visit(session, elder.person_id, world.volunteer_a.person_id, utcnow() - timedelta(minutes=5))
    browser.login(world.worker_a.phone, PASSWORD)
    everyone = lines(browser.get("/worker/completion/").get_data(as_text=True))
    assert {line["name"] for line in everyone} == {"孙奶奶", "钱爷爷", "甲老人"}
    # one line per elder, even for a weekly (high-risk) elder with four or five visits a month
    assert len(everyone) == 3
    done = lines(browser.get("/worker/completion/?state=done").get_data(as_text=True))
    assert [line["name"] for line in done] == ["孙奶奶"]
    assert [l["name"] for l in lines(browser.get("/worker/completion/?q=钱").get_data(as_text=True))] == ["钱爷爷"]
    tail = other.person.phone[-4:]
    assert [l["name"] for l in lines(browser.get(f"/worker/completion/?q={tail}").get_data(as_text=True))] == ["钱爷爷"]
    assert lines(browser.get("/worker/completion/?q=王").get_data(as_text=True)) == []
    high = lines(browser.get("/worker/completion/?tier=high_risk").get_data(as_text=True))
    assert [l["name"] for l in high] == ["甲老人"]
    mine = lines(browser.get(f"/worker/completion/?visitor={world.volunteer_a.person_id}").get_data(as_text=True))
    assert "孙奶奶" in {l["name"] for l in mine} and {l["visitor"] for l in mine} == {"甲志愿者"}
    assert lines(browser.get("/worker/completion/?visitor=none").get_data(as_text=True)) == []
    by_name = [l["name"] for l in lines(browser.get("/worker/completion/?sort=name").get_data(as_text=True))]
    assert by_name == sorted(by_name)
    # the default order: open visits before done ones
    assert everyone[-1]["name"] == "孙奶奶"
    # nonsense filters are ignored, never an error
    assert browser.get("/worker/completion/?state=x&tier=y&visitor=z&sort=w&page=-3").status_code == 200


def test_load_more_pages_the_rows(app, session, world, browser, monkeypatch):
    from portal.services.compliance import worklist

    _plan(app, session, world)
    monkeypatch.setattr(worklist, "PAGE_SIZE", 2)
    browser.login(world.worker_a.phone, PASSWORD)
    html = browser.get("/worker/completion/").get_data(as_text=True)
    first = lines(html)
    assert len(first) == 2 and 'id="more"' in html
    more = browser.get("/worker/completion/?page=2", headers={"HX-Request": "true", "HX-Target": "more"})
    rest = lines(more.get_data(as_text=True))
    assert len(rest) == 1 and "<html" not in more.get_data(as_text=True)
    assert {l["id"] for l in first}.isdisjoint({l["id"] for l in rest})


def test_bulk_reassign_undo_and_scope(app, session, world, browser):
    elder, other = _plan(app, session, world)
    second = make_volunteer(session, world.community_a, "丁志愿者", verified_by=world.worker_a)
    session.commit()
    browser.login(world.worker_a.phone, PASSWORD)
    ours = [_monthly(session, elder.person_id).id, _monthly(session, other.person_id).id]
    theirs = session.scalar(select(VisitObligation.id).where(VisitObligation.elder_id == world.elder_b.person_id))
    response = browser.post("/worker/completion/bulk-assign",
                            {"selected": [*ours, theirs], "assignee": str(second.person_id)}, page="/worker/completion/")
    assert response.status_code == 303
    session.expire_all()
    assert [session.get(VisitObligation, i).assigned_to_id for i in ours] == [second.person_id] * 2
    assert session.get(VisitObligation, theirs).assigned_to_id != second.person_id      # out of scope: untouched
    page = browser.get("/worker/completion/").get_data(as_text=True)
    assert "2位老人的探访已交给丁志愿者" in page.replace(" ", "")
    undo = browser.post("/worker/completion/undo", {"obligation": ours}, page="/worker/completion/")
    assert undo.status_code == 303
    session.expire_all()
    assert session.get(VisitObligation, ours[0]).assigned_to_id == world.volunteer_a.person_id
    # undone once: a second undo changes nothing
    browser.post("/worker/completion/undo", {"obligation": ours}, page="/worker/completion/")
    session.expire_all()
    assert session.get(VisitObligation, ours[0]).assigned_to_id == world.volunteer_a.person_id
    # nothing ticked: a message, nothing changed
    response = browser.post("/worker/completion/bulk-assign", {"assignee": str(second.person_id)},
                            page="/worker/completion/", follow_redirects=True)
    assert "请至少勾选一位老人" in response.get_data(as_text=True)
    # another community's visit cannot be undone either
    assert browser.post("/worker/completion/undo", {"obligation": [theirs]}, page="/worker/completion/").status_code == 404


def test_excuse_has_no_default_died_asks_again_and_undo_lasts_ten_minutes(app, session, world, browser):
    from portal.services import compliance

    _elder, other = _plan(app, session, world)
    browser.login(world.worker_a.phone, PASSWORD)
    ob = _monthly(session, other.person_id)
    page = browser.get(f"/worker/completion/{ob.id}").get_data(as_text=True)
    assert 'value="in_hospital"' in page and "checked" not in page[page.index('name="reason"'):]
    # no reason: the form comes back with a message, nothing changed
    response = browser.post(f"/worker/completion/{ob.id}/excuse", {}, page=f"/worker/completion/{ob.id}")
    assert response.status_code == 200 and "请从列表中选择原因" in response.get_data(as_text=True)
    # "passed away" asks once more
    response = browser.post(f"/worker/completion/{ob.id}/excuse", {"reason": "died"}, page=f"/worker/completion/{ob.id}")
    assert response.status_code == 200 and "已去世" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(VisitObligation, ob.id).status in ("due", "upcoming")
    response = browser.post(f"/worker/completion/{ob.id}/excuse", {"reason": "died", "confirm": "y"},
                            page=f"/worker/completion/{ob.id}")
    assert response.status_code == 303
    session.expire_all()
    assert session.get(VisitObligation, ob.id).status == "excused"
    # undone within 10 minutes: open again, no reason
    assert browser.post("/worker/completion/undo", {"obligation": [ob.id]}, page="/worker/completion/").status_code == 303
    session.expire_all()
    ob = session.get(VisitObligation, ob.id)
    assert ob.status in ("due", "upcoming") and ob.excuse_reason is None
    # after 10 minutes it stays
    now = utcnow()
    compliance.excuse(session, ob, "in_hospital", world.worker_a.id, now)
    session.flush()
    assert compliance.can_undo(session, ob, now + timedelta(minutes=9))
    assert not compliance.can_undo(session, ob, now + timedelta(minutes=11))
    session.rollback()


def test_export_is_exactly_the_filtered_rows(app, session, world, browser):
    import csv

    elder, _other = _plan(app, session, world)
    verify_visit(session, elder.person_id, world.volunteer_a.person_id, utcnow() - timedelta(minutes=5))
    browser.login(world.worker_a.phone, PASSWORD)
    page = browser.get("/worker/completion/?state=done").get_data(as_text=True)
    assert 'href="/worker/completion/list.csv?' in page and "state=done" in page
    response = browser.get("/worker/completion/list.csv?state=done")
    table = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert table[0][0] == "姓名" and [row[0] for row in table[1:]] == ["孙奶奶"]
    response = browser.get("/worker/completion/list.xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sorted(sheet.cell(row=r, column=1).value for r in range(2, sheet.max_row + 1)) == sorted(["孙奶奶", "钱爷爷", "甲老人"])
    exported = session.scalars(select(AuditEvent).where(AuditEvent.actor_id == world.worker_a.id,
                                                       AuditEvent.action == "export")).all()
    assert len(exported) == 2


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
    assert facts(before, "summary")["特殊困难老人本月探访率"] == "0%（0/2）"
    verify_visit(session, elder.person_id, world.volunteer_a.person_id, visit_time())
    after = browser.get("/worker/completion/").get_data(as_text=True)
    assert facts(after, "summary")["特殊困难老人本月探访率"] == "50%（1/2）"


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
    elder, other = _plan(app, session, world)
    verify_visit(session, elder.person_id, world.volunteer_a.person_id, visit_time())
    browser.login(world.officer.phone, PASSWORD)
    assert "/officer/visits/" in browser.get("/officer/").get_data(as_text=True)
    # 钱爷爷 was registered 40 days ago and never visited
    session.get(ElderProfile, other.person_id).created_at = utcnow() - timedelta(days=40)
    session.commit()
    html = browser.get("/officer/visits/").get_data(as_text=True)
    assert "<svg" in html and "甲街道" in html and "乙街道" in html
    assert "钱爷爷" not in html                      # the page is a summary: counts, not names
    streets = dict(re.findall(r'<th scope="row"><a href="/officer/visits/\?street=(\d+)"[^>]*>([^<]+)</a>', html))
    # drill down: the street's communities, each with its count of elders unvisited for 30+ days
    html = browser.get(f"/officer/visits/?street={world.street_a.id}").get_data(as_text=True)
    assert world.street_a.name in streets.values() and "甲社区" in html and "乙社区" not in html
    count = re.search(r'<a href="(/officer/visits/communities/%d/unvisited)">(\d+)</a>' % world.community_a.id, html)
    assert count and int(count.group(2)) >= 1
    listing = browser.get(count.group(1)).get_data(as_text=True)
    assert "钱爷爷" in listing
    assert browser.get(f"/officer/visits/communities/{world.community_a.id}/unvisited?page=2").status_code == 200
    # the trend labels its bars with percentages and months in Chinese style, and says when there is no data
    chart = html[html.index("<svg"):html.index("</svg>")]
    assert re.search(r'class="value">\d+%<', chart) and re.search(r'class="month">\d+月<', chart)
    assert re.search(r'class="year">\d{4}年<', chart) and "无数据" in chart
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
    row = next(line for line in lines(html) if line["name"] == "王秀英")
    # the state the page shows for this obligation at this moment (overdue once its due time has passed)
    expected = "overdue" if ob.due_at.replace(tzinfo=seen_at.tzinfo) <= seen_at else ob.status
    assert row["visitor"] == "李娜" and row["state"] == expected
    report_before = runner.invoke(args=["report", "visits"]).output
    verify_visit(session, wang.id, li_na.id, visit_time())
    html = browser.get("/worker/completion/").get_data(as_text=True)
    assert next(line for line in lines(html) if line["name"] == "王秀英")["state_text"] == "完成"
    report_after = runner.invoke(args=["report", "visits"]).output
    line = lambda text: next(l for l in text.splitlines() if "燕京社区" in l).split(",")
    assert int(line(report_after)[3]) == int(line(report_before)[3]) + 1


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


def test_a_newly_registered_elder_is_planned_at_once_and_not_called_unvisited(app, session, world, browser):
    from portal.models import ElderProfile
    from tests.web.test_worker import _elder_form

    browser.login(world.worker_a.phone, PASSWORD)
    form = _elder_form(world, living_situation="with_family", hardship=["low_income"], birth_date="1950-02-03")
    assert browser.post("/worker/elders/new", form).status_code == 303
    elder = session.scalar(select(ElderProfile).join(Person).where(Person.name == "刘桂兰"))
    # on the completion list at once, before any plan run, with a visitor
    line = next(l for l in lines(browser.get("/worker/completion/").get_data(as_text=True)) if l["name"] == "刘桂兰")
    assert line["state_text"] in ("待探访", "即将开始") and line["visitor"] not in ("", "还没有人")
    assert _monthly(session, elder.person_id) is not None
    # the officer's "not visited for 30 days" leaves out an elder registered today …
    browser.logout()
    browser.login(world.officer.phone, PASSWORD)
    html = browser.get("/officer/visits/").get_data(as_text=True)
    stale = html[html.index("超过"):]
    assert "刘桂兰" not in stale
    # … and lists her once she has waited more than 30 days without a visit
    from portal.services.compliance import stale_elders

    later = utcnow() + timedelta(days=31)
    assert "刘桂兰" in [name for _id, name, _c, _l in stale_elders(session, [world.community_a.id], later)]


def test_a_visitor_taken_off_a_visit_is_told_and_her_reminders_stop(app, session, world, browser):
    from portal.models import OutboundMessage
    from portal.services.compliance.notices import send_to

    elder, _other = _plan(app, session, world)
    second = make_volunteer(session, world.community_a, "丁志愿者", verified_by=world.worker_a)
    ob = _monthly(session, elder.person_id)
    send_to(session, world.volunteer_a.person, "Please visit", f"obl:{ob.id}:day20", utcnow() + timedelta(days=1))
    session.commit()
    browser.login(world.worker_a.phone, PASSWORD)
    browser.post(f"/worker/completion/{ob.id}/assign", {"assignee": str(second.person_id)}, page="/worker/completion/")
    session.expire_all()
    reminder = session.scalar(select(OutboundMessage).where(OutboundMessage.dedupe_key == f"obl:{ob.id}:day20"))
    assert reminder.status == "cancelled"
    told = [m.body for m in session.scalars(select(OutboundMessage).where(
        OutboundMessage.person_id == world.volunteer_a.person_id, OutboundMessage.dedupe_key.like(f"obl:{ob.id}:off:%")))]
    assert told and "不用您去探访孙奶奶" in told[0]


def test_the_visit_rate_says_what_it_counts_and_why_the_list_is_longer(app, session, world, browser):
    """The rate counts the month's monthly visits (特殊困难老人) while the list also holds the elders
    visited weekly or quarterly: 探访率 0% (0/41) above 56 lines said neither."""
    _plan(app, session, world)
    browser.login(world.worker_a.phone, PASSWORD)
    html = browser.get("/worker/completion/").get_data(as_text=True)
    summary = facts(html, "summary")
    assert list(summary) == ["特殊困难老人本月探访率"]
    assert summary["特殊困难老人本月探访率"].startswith("0%") and summary["特殊困难老人本月探访率"].endswith("（0/2）")
    shown = lines(html)
    tiers = {tier: sum(1 for line in shown if line["tier"] == tier) for tier in {line["tier"] for line in shown}}
    assert tiers["特殊困难"] == 2 and len(tiers) > 1  # the world's elder is visited on another rhythm
    note = text_of(html, cls="rate-note")
    assert note.startswith(f"本月列表共 {len(shown)} 位老人：")
    assert "特殊困难 2 位（每月探访一次，计入探访率）" in note
    for tier, count in tiers.items():
        assert f"{tier} {count} 位（" in note
