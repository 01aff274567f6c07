"""The forecast's ranking (issue 16): the hourly job ranks the month's open visits once for the
district into one small table; the dashboards read it instead of sorting every open obligation per
request, and say the same as the live ranking."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import event, func, select

from portal.models import ForecastRank
from portal.services import compliance
from tests.jobs.test_compliance_month import at, hardship_elder, run, verify_visit

MID_MONTH = "2026-11-16T12:00"


@pytest.fixture()
def month(world, session):
    """甲社区: 刘, 陈 and 周; 乙社区: 吴 (as in test_compliance_month)."""
    w = world
    elders = [hardship_elder(session, w.community_a, name) for name in ("刘奶奶", "陈爷爷", "周奶奶")]
    wu = hardship_elder(session, w.community_b, "吴爷爷")
    session.commit()
    return SimpleNamespace(w=w, liu=elders[0], chen=elders[1], zhou=elders[2], wu=wu)


def _ranks(session):
    session.expire_all()
    return session.execute(select(ForecastRank.period, ForecastRank.community_id, ForecastRank.rank,
                                  ForecastRank.elder_id).order_by(ForecastRank.community_id, ForecastRank.rank)).all()


def _forecast(session, month):
    return compliance.forecast(session, "2026-11", [month.w.community_a.id, month.w.community_b.id], at(MID_MONTH))


def test_the_job_ranks_the_open_visits_and_running_it_twice_changes_nothing(app, session, month):
    run(app, "plan-visits", at("2026-11-01T00:10"))
    live = _forecast(session, month)  # nothing stored yet: ranked on the spot
    assert live and live[0]["names"]
    compliance.refresh_forecast_ranks(session, at("2026-11-16T11:07"))
    session.commit()
    first = _ranks(session)
    assert {row.period for row in first} == {"2026-11"}
    assert len(first) == 4 and [row.rank for row in first if row.community_id == month.w.community_a.id] == [1, 2, 3]
    compliance.refresh_forecast_ranks(session, at("2026-11-16T12:07"))
    session.commit()
    assert _ranks(session) == first
    assert _forecast(session, month) == live


def test_the_dashboard_reads_the_stored_order_without_sorting_the_month(app, session, month):
    run(app, "plan-visits", at("2026-11-01T00:10"))
    compliance.refresh_forecast_ranks(session, at("2026-11-16T11:07"))
    session.commit()
    engine = session.get_bind()
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        _forecast(session, month)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert not any("row_number" in s.lower() for s in statements), statements
    assert any("forecast_ranks" in s for s in statements)


def test_a_visit_since_the_last_ranking_drops_the_elder_from_the_names(app, session, month):
    run(app, "plan-visits", at("2026-11-01T00:10"))
    compliance.refresh_forecast_ranks(session, at("2026-11-16T11:07"))
    session.commit()
    before = _forecast(session, month)
    row = next(r for r in before if r["community_id"] == month.w.community_a.id)
    named = row["names"][0]
    elder = next(e for e in (month.liu, month.chen, month.zhou) if e.person.name == named)
    verify_visit(session, elder.person_id, month.w.volunteer_a.person_id, at("2026-11-16T11:30"))
    after = _forecast(session, month)
    assert named not in [name for r in after for name in r["names"]], (before, after)


def test_last_months_ranks_are_dropped(app, session, month):
    run(app, "plan-visits", at("2026-11-01T00:10"))
    compliance.refresh_forecast_ranks(session, at("2026-11-16T11:07"))
    session.commit()
    run(app, "plan-visits", at("2026-12-01T00:10"))
    compliance.refresh_forecast_ranks(session, at("2026-12-01T01:07"))
    session.commit()
    assert session.scalar(select(func.count()).select_from(ForecastRank)
                          .where(ForecastRank.period == "2026-11")) == 0


def test_the_job_is_registered_hourly(app, session, month):
    from jobs.registry import load_jobs

    job = load_jobs()["forecast-ranks"]
    assert job.trigger == "cron" and set(job.trigger_args) == {"minute"}
    run(app, "plan-visits", at("2026-11-01T00:10"))
    assert run(app, "forecast-ranks", at("2026-11-16T11:07"))["status"] == "done"
    assert _ranks(session)


def test_the_district_overview_names_the_first_few_and_counts_the_rest(app, session, month):
    run(app, "plan-visits", at("2026-11-01T00:10"))
    compliance.refresh_forecast_ranks(session, at("2026-11-16T11:07"))
    session.commit()
    full = {r["community_id"]: r for r in _forecast(session, month)}
    short = {r["community_id"]: r for r in compliance.forecast(
        session, "2026-11", [month.w.community_a.id, month.w.community_b.id], at(MID_MONTH), names_each=1)}
    a = month.w.community_a.id
    assert full[a]["will_miss"] == short[a]["will_miss"] == 3
    assert short[a]["names"] == full[a]["names"][:1]


def test_the_overview_reads_the_hourly_unvisited_counts_and_counts_live_when_they_are_old(app, session, month):
    from datetime import timedelta

    from portal.models import StaleCount

    ids = [month.w.community_a.id, month.w.community_b.id]
    later = at("2026-11-16T11:07") + timedelta(days=400)  # everyone is unvisited for too long by then
    live = compliance.stale_counts(session, ids, later)
    assert live[month.w.community_a.id] >= 3
    assert compliance.stale_counts_overview(session, ids, later) == live  # nothing counted yet: live
    compliance.refresh_forecast_ranks(session, later)
    session.commit()
    assert session.get(StaleCount, month.w.community_a.id).count == live[month.w.community_a.id]
    session.get(StaleCount, month.w.community_a.id).count = 7  # what the job counted is what is shown
    session.commit()
    assert compliance.stale_counts_overview(session, ids, later)[month.w.community_a.id] == 7
    assert compliance.stale_counts_overview(session, ids, later + timedelta(hours=3)) == \
        compliance.stale_counts(session, ids, later + timedelta(hours=3))  # the job stopped: live again
    compliance.refresh_forecast_ranks(session, later)
    compliance.refresh_forecast_ranks(session, later)  # twice: the same rows
    session.commit()
    from portal.models import Area

    communities = session.scalar(select(func.count()).select_from(Area).where(Area.level == "community"))
    assert session.scalar(select(func.count()).select_from(StaleCount)) == communities


def test_when_the_first_in_line_was_visited_since_the_ranking_the_next_in_line_is_named(app, session, month):
    run(app, "plan-visits", at("2026-11-01T00:10"))
    compliance.refresh_forecast_ranks(session, at("2026-11-16T11:07"))
    session.commit()
    a = month.w.community_a.id
    ids = [a, month.w.community_b.id]
    order = {r["community_id"]: r for r in compliance.forecast(session, "2026-11", ids, at(MID_MONTH))}[a]["names"]
    assert len(order) == 3
    first = next(e for e in (month.liu, month.chen, month.zhou) if e.person.name == order[0])
    verify_visit(session, first.person_id, month.w.volunteer_a.person_id, at("2026-11-16T11:30"))
    short = {r["community_id"]: r for r in compliance.forecast(session, "2026-11", ids, at(MID_MONTH),
                                                               names_each=1)}[a]
    assert short["names"] == [order[1]]  # the second in the stored order, not nobody
