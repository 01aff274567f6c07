"""A whole month of visit compliance, walked by running the jobs at chosen moments."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from jobs.registry import load_jobs
from jobs.runner import catch_up, run_job, slot_for
from portal.models import (
    ComplianceSnapshot,
    ElderProfile,
    JobRun,
    ObligationEvent,
    OutboundMessage,
    Visit,
    VisitObligation,
)
from portal.services import DomainError, compliance, visits
from portal.services.people import pair, save_elder
from tests.factories import make_elder, make_staff, make_volunteer

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    """A Shanghai wall-clock time as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=SH).astimezone(timezone.utc)


def hardship_elder(session, community, name, **extra):
    data = dict(living_situation="with_family", hardship=["low_income"], birth_date=date(1950, 3, 1))
    data.update(extra)
    return make_elder(session, community, name, **data)


def verify_visit(session, elder_id, volunteer_id, checked_in, method="door_qr", counts=True, now=None):
    """A real visit of 40 minutes, confirmed by the elder (the visits service sends visit_verified)."""
    elder = session.get(ElderProfile, elder_id)
    visit = Visit(volunteer_id=volunteer_id, elder_id=elder_id, community_id=elder.community_id,
                  service_type="visit", checked_in_at=checked_in, checked_out_at=checked_in + timedelta(minutes=40),
                  duration_minutes=40, method=method, check_out_method=method, status="done",
                  counts_for_compliance=counts, flags=[])
    session.add(visit)
    session.flush()
    visits.confirm_by_elder(session, visit, elder.person, "web", now or checked_in + timedelta(hours=1))
    session.commit()
    return visit


@pytest.fixture()
def month(world, session):
    """甲社区: 刘 (paired with 甲志愿者), 陈 and 周 (unpaired; 丙志愿者 has room for one); 乙社区: 吴 (no volunteers)."""
    w = world
    liu = hardship_elder(session, w.community_a, "刘奶奶")
    chen = hardship_elder(session, w.community_a, "陈爷爷")
    zhou = hardship_elder(session, w.community_a, "周奶奶")
    wu = hardship_elder(session, w.community_b, "吴爷爷")
    spare = make_volunteer(session, w.community_a, "丙志愿者", verified_by=w.worker_a)
    spare.monthly_capacity = 1
    w.volunteer_a.monthly_capacity = 1  # busy with 刘 only
    pair(session, w.volunteer_a, liu, w.worker_a)
    street_officer = make_staff(session, "officer", w.street_a, "甲街道干部")
    session.commit()
    return SimpleNamespace(w=w, liu=liu, chen=chen, zhou=zhou, wu=wu, spare=spare, street_officer=street_officer)


def run(app, name, when):
    return run_job(app.extensions["linli"].session_factory, name, when)


def obligation(session, elder, period="2026-11"):
    session.expire_all()
    return session.scalar(select(VisitObligation).where(VisitObligation.elder_id == elder.person_id,
                                                        VisitObligation.period == period))


def count(session, model, *where):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def bodies_to(session, person):
    session.expire_all()
    return [m for m in session.scalars(select(OutboundMessage).where(OutboundMessage.to_phone == person.phone))]


def test_a_whole_month(app, session, month):
    m = month
    result = run(app, "plan-visits", at("2026-11-01T00:10"))
    assert result["status"] == "done"
    liu, chen, zhou, wu = (obligation(session, e) for e in (m.liu, m.chen, m.zhou, m.wu))
    assert {o.status for o in (liu, chen, zhou, wu)} == {"due"}
    assert liu.assigned_to_id == m.w.volunteer_a.person_id          # the paired volunteer
    assert chen.assigned_to_id == m.spare.person_id                  # a volunteer with room
    assert zhou.assigned_to_id == m.w.worker_a.id                    # nobody left: the worker
    assert wu.assigned_to_id == m.w.worker_b.id
    assert liu.window_start == at("2026-11-01T00:00") and liu.window_end == at("2026-12-01T00:00")
    history = [(e.from_status, e.to_status) for e in session.scalars(
        select(ObligationEvent).where(ObligationEvent.obligation_id == liu.id).order_by(ObligationEvent.id))]
    assert history == [(None, "due")]                                # planned inside its window: one row
    before = count(session, VisitObligation), count(session, ObligationEvent)
    run(app, "plan-visits", at("2026-11-01T08:00"))
    assert (count(session, VisitObligation), count(session, ObligationEvent)) == before

    verify_visit(session, m.liu.person_id, m.w.volunteer_a.person_id, at("2026-11-05T10:00"))
    assert obligation(session, m.liu).status == "done"

    run(app, "visit-reminders", at("2026-11-10T09:30"))
    assert bodies_to(session, m.w.volunteer_a.person) == []            # done: no reminder
    assert len(bodies_to(session, m.spare.person)) == 1
    assert "陈爷爷" in bodies_to(session, m.spare.person)[0].body
    messages = count(session, OutboundMessage)
    run(app, "visit-reminders", at("2026-11-10T15:00"))
    assert count(session, OutboundMessage) == messages                  # nothing sent twice

    run(app, "visit-reminders", at("2026-11-20T09:30"))
    assert len(bodies_to(session, m.spare.person)) == 2
    told = [x.body for x in bodies_to(session, m.w.worker_a)]
    assert any("陈爷爷" in body and "周奶奶" in body for body in told)

    run(app, "visit-reminders", at("2026-11-25T09:30"))
    assert obligation(session, m.chen).escalated_at is not None
    officer_texts = [x.body for x in bodies_to(session, m.street_officer)]
    assert len(officer_texts) == 1 and "陈爷爷" in officer_texts[0]
    assert bodies_to(session, m.w.officer) != []                       # 乙街道 has no officer: the district's
    messages = count(session, OutboundMessage)
    events_before = count(session, ObligationEvent)
    run(app, "visit-reminders", at("2026-11-26T09:30"))
    assert count(session, OutboundMessage) == messages
    assert count(session, ObligationEvent) == events_before

    verify_visit(session, m.chen.person_id, m.spare.person_id, at("2026-11-30T23:30"))  # Shanghai: still November
    assert obligation(session, m.chen).status == "done"

    run(app, "close-period", at("2026-12-01T00:30"))
    assert obligation(session, m.zhou).status == "missed"
    snap = session.scalar(select(ComplianceSnapshot).where(ComplianceSnapshot.period == "2026-11",
                                                           ComplianceSnapshot.area_id == m.w.community_a.id))
    assert (snap.due, snap.done, snap.missed, snap.excused) == (3, 2, 1, 0)  # 甲老人 (high risk) is weekly
    district = session.scalar(select(ComplianceSnapshot).where(ComplianceSnapshot.period == "2026-11",
                                                               ComplianceSnapshot.area_id == m.w.district.id))
    assert (district.due, district.done) == (4, 2)
    snapshots = count(session, ComplianceSnapshot)
    run(app, "close-period", at("2026-12-01T06:00"))
    assert count(session, ComplianceSnapshot) == snapshots

    # A late visit is recorded but does not rewrite the closed month.
    verify_visit(session, m.zhou.person_id, m.w.worker_a.id, at("2026-11-29T10:00"), now=at("2026-12-02T09:00"))
    late = obligation(session, m.zhou)
    assert late.status == "missed" and late.late_visit_id is not None
    session.expire_all()
    assert session.get(ComplianceSnapshot, snap.id).done == 2

    result = app.test_cli_runner().invoke(args=["report", "visits", "--period", "2026-11"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0][:4] == ["街道/乡镇", "社区", "应探访人数", "已探访"]
    a_row = next(r for r in rows if r[1] == "甲社区")
    assert a_row[2:4] == ["3", "2"] and a_row[-1] == "66.7%"


def test_a_visit_just_after_midnight_shanghai_counts_for_the_new_month(app, session, month):
    run(app, "plan-visits", at("2026-11-01T00:10"))
    verify_visit(session, month.chen.person_id, month.spare.person_id, at("2026-12-01T00:30"))
    assert obligation(session, month.chen).status == "due"      # 2026-11-30 16:30 UTC, but December in Shanghai


def test_visits_that_do_not_count(app, session, month):
    run(app, "plan-visits", at("2026-11-01T00:10"))
    verify_visit(session, month.chen.person_id, month.spare.person_id, at("2026-11-03T10:00"), method="phone")
    verify_visit(session, month.chen.person_id, month.spare.person_id, at("2026-11-04T10:00"), counts=False)
    assert obligation(session, month.chen).status == "due"


def test_reminders_wait_out_quiet_hours(app, session, month):
    run(app, "plan-visits", at("2026-11-01T00:10"))
    run(app, "visit-reminders", at("2026-11-10T22:30"))
    message = bodies_to(session, month.spare.person)[0]
    assert message.next_attempt_at == at("2026-11-11T08:00")
    verify_visit(session, month.chen.person_id, month.spare.person_id, at("2026-11-10T23:00"))
    session.expire_all()
    assert session.get(OutboundMessage, message.id).status == "cancelled"   # done silences the reminder


def test_an_elder_moving_mid_month_is_counted_once_in_the_new_community(app, session, month):
    m = month
    run(app, "plan-visits", at("2026-11-01T00:10"))
    before = compliance.live_figures(session, "2026-11")
    data = {"name": "陈爷爷", "phone": m.chen.person.phone, "community_id": m.w.community_b.id,
            "address": "乙社区 2 栋", "birth_date": date(1950, 3, 1), "living_situation": "with_family",
            "hardship": ["low_income"], "ability_level": 1}
    save_elder(session, data, date(2026, 11, 10), profile=m.chen)  # mid-month, as the story is
    session.commit()
    moved = obligation(session, m.chen)
    assert moved.community_id == m.w.community_b.id and moved.assigned_to_id == m.w.worker_b.id
    after = compliance.live_figures(session, "2026-11")
    assert after[m.w.community_a.id].total == before[m.w.community_a.id].total - 1
    assert after[m.w.community_b.id].total == before[m.w.community_b.id].total + 1
    run(app, "plan-visits", at("2026-11-15T00:10"))
    assert count(session, VisitObligation, VisitObligation.elder_id == m.chen.person_id) == 1


def test_a_deactivated_volunteers_visits_are_reassigned(app, session, month):
    m = month
    run(app, "plan-visits", at("2026-11-01T00:10"))
    m.spare.monthly_capacity = 0
    session.commit()
    compliance.deactivate_volunteer(session, m.w.volunteer_a, m.w.worker_a.id, at("2026-11-12T10:00"))
    session.commit()
    assert obligation(session, m.liu).assigned_to_id == m.w.worker_a.id


def test_a_scheduler_down_for_three_days_catches_up_once(app, session, month):
    factory = app.extensions["linli"].session_factory
    first = catch_up(factory, at("2026-11-01T00:15"))
    assert first["plan-visits"]["status"] == "done"
    # down from the 1st to the 4th: on restart each job runs once for its latest slot
    later = catch_up(factory, at("2026-11-04T10:00"))
    daily = {"plan-visits", "visit-reminders", "close-period"}
    assert daily <= set(later)  # frequent interval jobs (the outbox sender…) may also have a slot due
    assert not daily & set(catch_up(factory, at("2026-11-04T10:05")))
    assert count(session, JobRun, JobRun.job_name == "plan-visits") == 2


def test_the_same_slot_never_runs_twice(app, session, month):
    factory = app.extensions["linli"].session_factory
    when = at("2026-11-01T00:10")
    slot = slot_for(load_jobs()["plan-visits"], when)
    assert run_job(factory, "plan-visits", when, slot=slot)["status"] == "done"
    assert run_job(factory, "plan-visits", when, slot=slot)["status"] == "already-run"


def test_excused_elders_leave_the_denominator(app, session, month):
    run(app, "plan-visits", at("2026-11-01T00:10"))
    compliance.excuse(session, obligation(session, month.zhou), "in_hospital", month.w.worker_a.id,
                      at("2026-11-03T10:00"))
    session.commit()
    figures = compliance.live_figures(session, "2026-11")[month.w.community_a.id]
    assert figures.excused == 1 and figures.due == figures.total - 1
    with pytest.raises(DomainError):
        compliance.excuse(session, obligation(session, month.chen), "bored", None, at("2026-11-03T10:00"))


def test_forecast_from_mid_month(app, session, month):
    run(app, "plan-visits", at("2026-11-01T00:10"))
    assert compliance.forecast(session, "2026-11", [month.w.community_a.id], at("2026-11-10T10:00")) is None
    verify_visit(session, month.liu.person_id, month.w.volunteer_a.person_id, at("2026-11-05T10:00"))
    result = compliance.forecast(session, "2026-11", [month.w.community_a.id], at("2026-11-16T12:00"))
    # 1 of 3 done just past half time: at this pace 1 more will be done, so 1 will be missed
    assert result[0]["will_miss"] == 1 and len(result[0]["names"]) == 1


def test_a_major_event_plans_a_visit_within_24_hours(app, session, month):
    now = at("2026-11-08T10:00")
    event = compliance.record_major_event(session, month.w.elder_a, "fall", at("2026-11-08T07:00"), "跌倒", None, now)
    session.commit()
    ob = obligation(session, month.w.elder_a, f"E{event.id}")
    assert ob.status == "due" and ob.window_end == at("2026-11-09T07:00")
    with pytest.raises(DomainError):
        compliance.record_major_event(session, month.w.elder_a, "fall", at("2026-11-09T07:00"), None, None, now)


@pytest.mark.parametrize("period, message", [("2026-13", "YYYY-MM"), ("11/2026", "YYYY-MM"), ("2099-01", "还没有开始")])
def test_a_wrong_or_future_period_is_a_clear_error(app, session, period, message):
    result = app.test_cli_runner().invoke(args=["report", "visits", "--period", period])
    assert result.exit_code == 2
    assert message in result.output


def test_months_step_across_the_year():
    assert compliance.next_month("2026-11") == "2026-12"
    assert compliance.next_month("2026-12") == "2027-01"
    assert compliance.previous_month("2027-01") == "2026-12"
    assert compliance.previous_month(compliance.next_month("2026-07")) == "2026-07"
