"""The officer pages' figures per community (issue 16): the hourly forecast-ranks job counts this
month's visit figures and the elders per care tier into one small table; the officer's dashboard and
overview read it and say when it was counted, count live when the job has not run lately, and show
an officer the communities of their own area only."""
from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import event, select

from portal.db import utcnow
from portal.models import Area, CommunityFigures
from portal.services import compliance
from portal.services.compliance.dashboard import _tier_counts
from portal.services.people import pair
from portal.services.scope import add_area
from tests.factories import PASSWORD, make_elder, make_staff
from tests.jobs.test_compliance_month import run, verify_visit
from tests.web.test_completion import visit_time


def _hardship(session, community, name):
    return make_elder(session, community, name, living_situation="with_family", hardship=["low_income"],
                      birth_date=date(1950, 3, 1))


def _month(app, session, world):
    """Two special-hardship elders in 甲社区 (孙 paired), three in 乙社区 (each also has the world's
    high-risk elder), this month planned."""
    sun = _hardship(session, world.community_a, "孙奶奶")
    _hardship(session, world.community_a, "钱爷爷")
    for name in ("赵奶奶", "李爷爷", "王奶奶"):
        _hardship(session, world.community_b, name)
    pair(session, world.volunteer_a, sun, world.worker_a)
    session.commit()
    run(app, "plan-visits", utcnow())
    return sun


def _stored(session):
    session.expire_all()
    return session.execute(select(CommunityFigures.community_id, CommunityFigures.period, CommunityFigures.total,
                                  CommunityFigures.excused, CommunityFigures.done, CommunityFigures.missed,
                                  CommunityFigures.high_risk, CommunityFigures.special_hardship,
                                  CommunityFigures.general, CommunityFigures.elders)
                           .order_by(CommunityFigures.community_id)).all()


def _refresh(session, now):
    compliance.refresh_forecast_ranks(session, now)
    session.commit()


def _overall(html: str) -> str:
    """The dashboard's overall figure as the officer reads it: "done/due"."""
    return re.search(r"</strong> \((\d+/\d+)\)</p>", html).group(1)


def test_the_job_counts_every_community_and_running_it_twice_leaves_the_same_rows(app, session, world):
    sun = _month(app, session, world)
    verify_visit(session, sun.person_id, world.volunteer_a.person_id, visit_time())
    empty = add_area(session, "丙社区", "community", world.street_b)  # no elders yet
    session.commit()
    now = utcnow()
    _refresh(session, now)
    first = _stored(session)
    assert {row.community_id for row in first} == set(session.scalars(select(Area.id).where(Area.level == "community")))
    rows = {row.community_id: row for row in first}
    live = compliance.live_figures(session, compliance.current_month(now))
    for community in (world.community_a, world.community_b):
        stored, counted = rows[community.id], live[community.id]
        assert (stored.total, stored.excused, stored.done, stored.missed) == \
            (counted.total, counted.excused, counted.done, counted.missed)
        tiers, elders = _tier_counts(session, [community.id])[community.id]
        assert stored.elders == elders and stored.special_hardship == tiers.get("special_hardship", 0)
    assert (rows[world.community_a.id].total, rows[world.community_a.id].done) == (2, 1)
    assert rows[world.community_b.id].special_hardship == 3
    assert rows[empty.id].elders == 0 and rows[empty.id].total == 0
    _refresh(session, now)
    _refresh(session, now + timedelta(minutes=30))  # twice more, later in the hour: the same rows
    assert _stored(session) == first


def test_the_job_is_run_by_the_scheduler_as_part_of_the_hourly_forecast_job(app, session, world):
    from jobs.registry import load_jobs

    _month(app, session, world)
    job = load_jobs()["forecast-ranks"]
    assert job.trigger == "cron" and set(job.trigger_args) == {"minute"}
    assert run(app, "forecast-ranks", utcnow())["status"] == "done"
    assert len(_stored(session)) == 2


def test_the_dashboard_shows_the_counted_figures_and_when_they_were_counted(app, session, world, browser):
    sun = _month(app, session, world)
    _refresh(session, utcnow())
    browser.login(world.officer.phone, PASSWORD)
    html = browser.get("/officer/visits/").get_data(as_text=True)
    assert _overall(html) == "0/5" and "统计于" in html and "每小时" in html
    # a visit since the count: the dashboard keeps the counted figures and says when they were counted …
    verify_visit(session, sun.person_id, world.volunteer_a.person_id, visit_time())
    html = browser.get("/officer/visits/").get_data(as_text=True)
    assert _overall(html) == "0/5" and "统计于" in html
    # … until the next hourly run counts it
    _refresh(session, utcnow())
    html = browser.get("/officer/visits/").get_data(as_text=True)
    assert _overall(html) == "1/5"
    street = browser.get(f"/officer/visits/?street={world.street_a.id}").get_data(as_text=True)
    assert re.search(r"甲社区</th><td>50%", street)


def test_the_dashboard_reads_the_counted_figures_without_counting_the_month(app, session, world, browser):
    _month(app, session, world)
    _refresh(session, utcnow())
    browser.login(world.officer.phone, PASSWORD)
    statements: list[tuple[str, str]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, repr(parameters)))

    engine = app.extensions["linli"].engine
    engine = getattr(engine, "connection", engine)  # inside the test's transaction: its connection
    event.listen(engine, "before_cursor_execute", before)
    try:
        assert browser.get("/officer/visits/").status_code == 200
        assert browser.get("/officer/").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert any("community_figures" in s for s, _ in statements)
    # no count of this month's visits (earlier months not closed in this test are counted for the
    # trend, as before) and no count of the elders
    this_month = compliance.current_month(utcnow())
    counting = [s for s, parameters in statements if "count(" in s.lower() and (
        "visit_obligations" in s and this_month in parameters or "elder_profiles" in s)]
    assert not counting, counting


def test_without_a_recent_count_the_pages_count_live(app, session, world, browser):
    sun = _month(app, session, world)
    verify_visit(session, sun.person_id, world.volunteer_a.person_id, visit_time())
    browser.login(world.officer.phone, PASSWORD)
    # a fresh install: the job has never run
    html = browser.get("/officer/visits/").get_data(as_text=True)
    assert _overall(html) == "1/5" and "统计于" not in html
    overview = browser.get("/officer/").get_data(as_text=True)
    assert "统计于" not in overview and re.search(r"乙社区</th><td>1</td><td>3</td>", overview)
    # the job stopped three hours ago: what it counted then is not shown
    _refresh(session, utcnow() - timedelta(hours=3))
    for row in session.scalars(select(CommunityFigures)):
        row.done, row.special_hardship, row.elders = 0, 9, 9
    session.commit()
    html = browser.get("/officer/visits/").get_data(as_text=True)
    assert _overall(html) == "1/5" and "统计于" not in html
    overview = browser.get("/officer/").get_data(as_text=True)
    assert "统计于" not in overview and re.search(r"乙社区</th><td>1</td><td>3</td>", overview)
    # counted last month (the first hour of a month): this month is counted live
    _refresh(session, utcnow())
    for row in session.scalars(select(CommunityFigures)):
        row.period, row.done = "2000-01", 0
    session.commit()
    assert _overall(browser.get("/officer/visits/").get_data(as_text=True)) == "1/5"


def test_the_overview_reads_the_counted_elders_and_counts_a_new_community_live(app, session, world, browser):
    _month(app, session, world)
    _refresh(session, utcnow())
    browser.login(world.officer.phone, PASSWORD)
    overview = browser.get("/officer/").get_data(as_text=True)
    assert re.search(r"乙社区</th><td>1</td><td>3</td><td>0</td><td>4</td>", overview) and "统计于" in overview
    # a community added since the count is counted on its own
    new = add_area(session, "丁社区", "community", world.street_a)
    _hardship(session, new, "新奶奶")
    session.commit()
    overview = browser.get("/officer/").get_data(as_text=True)
    assert re.search(r"丁社区</th><td>0</td><td>1</td><td>0</td><td>1</td>", overview)
    assert "(0/5)" in browser.get("/officer/visits/").get_data(as_text=True)  # its month not yet planned


def test_a_street_officer_never_sees_another_streets_figures(app, session, world, browser):
    _month(app, session, world)
    street_officer = make_staff(session, "officer", world.street_a, "甲街道民政")
    session.commit()
    _refresh(session, utcnow())
    browser.login(street_officer.phone, PASSWORD)
    overview = browser.get("/officer/").get_data(as_text=True)
    assert "甲社区" in overview and "乙社区" not in overview
    html = browser.get("/officer/visits/").get_data(as_text=True)
    assert "甲社区" in html and "乙社区" not in html and "乙街道" not in html
    assert _overall(html) == "0/2"  # 甲社区's two elders, not the district's five
    html = browser.get(f"/officer/visits/?street={world.street_b.id}").get_data(as_text=True)
    assert "乙社区" not in html and "乙街道" not in html
