"""Paper first (issue 14, point 5): the printed monthly visit sheet is a form a visitor fills by hand,
and a worker keys a whole sheet back in on one page — keyboard only, one row per elder; blank rows
write nothing; a bad row is shown at once and nothing is written until it is fixed or skipped; the
same sheet twice writes nothing twice; only the worker's own elders; every visit entered this way
needs the elder's confirmation or a second staff member (issue 12, point 4)."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, PendingQuestion, Transfer, Visit, VisitObligation, VisitRecord
from portal.services import DomainError, compliance
from portal.services import visits as visit_service
from portal.services.visit_records import HEADINGS
from tests.conftest import csrf_from
from tests.factories import PASSWORD, make_elder, make_staff, make_volunteer

NOW = datetime(2026, 12, 15, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, mid-month
DAY = "2026-12-14"
KEY = re.compile(r'name="idempotency_key" value="([0-9a-f]{32})"')
ROW = re.compile(r'<fieldset class="sheet-row[^"]*" id="row-(\d+)">\s*<legend>\d+\. ([^<]+)</legend>\s*'
                 r'<input id="rows-(\d+)-elder_id" name="rows-\d+-elder_id" type="hidden" value="(\d+)">')
GOOD = {heading.key: heading.choices[0][0] for heading in HEADINGS}


@pytest.fixture()
def clock(monkeypatch):
    for module in ("portal.web.visits_worker", "portal.web.completion"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: NOW)
    return NOW


@pytest.fixture()
def sheet(app, session, world, clock):
    """Community A with three elders waiting for December's visit (the world's elder and two more)."""
    second = make_elder(session, world.community_a, "孙奶奶", address="甲社区 2 栋")
    third = make_elder(session, world.community_a, "钱爷爷", address="甲社区 3 栋")
    session.commit()
    compliance.plan_visits(session, NOW)
    session.commit()
    return [world.elder_a, second, third]


def _open(browser, world, url="/worker/visits/key-in"):
    if browser.get(url).status_code != 200:
        browser.login(world.worker_a.phone, PASSWORD)
    html = browser.get(url).get_data(as_text=True)
    rows = {int(elder_id): int(index) for _n, _name, index, elder_id in ROW.findall(html)}
    return html, rows


def _row(index: int, elder_id: int, volunteer_id: int | str = "", day="", start="", end="", answers=None,
         skip=False) -> dict:
    data = {f"rows-{index}-elder_id": str(elder_id), f"rows-{index}-volunteer_id": str(volunteer_id),
            f"rows-{index}-day": day, f"rows-{index}-start": start, f"rows-{index}-end": end}
    data.update({f"rows-{index}-{key}": value for key, value in (answers or {}).items()})
    if skip:
        data[f"rows-{index}-skip"] = "y"
    return data


def _obligation(session, elder) -> VisitObligation:
    session.expire_all()
    return session.scalar(select(VisitObligation).where(VisitObligation.elder_id == elder.person_id))


def _visits(session) -> list[Visit]:
    session.expire_all()
    return session.scalars(select(Visit).order_by(Visit.id)).all()


def test_the_printed_sheet_is_a_form_to_fill_by_hand(browser, world, sheet):
    browser.login(world.worker_a.phone, PASSWORD)
    html = browser.get("/worker/completion/sheet").get_data(as_text=True)
    assert html.count('class="elder-block"') == 3
    assert html.count('class="box"') == 3 * sum(len(h.choices) for h in HEADINGS)  # a tick box per answer
    assert "到达" in html and "离开" in html and "签名或按手印" in html
    assert "/worker/visits/key-in" in html
    assert world.elder_a.door_code not in re.sub(r'value="[^"]*"', "", html)


def test_the_entry_page_is_one_row_per_elder_in_the_sheets_order_keyboard_only(browser, world, sheet):
    html, rows = _open(browser, world)
    names = [name for _n, name, _i, _e in ROW.findall(html)]
    assert names == [e.person.name for e in sorted(sheet, key=lambda e: (e.address, e.person.name))]  # as printed
    assert set(rows) == {elder.person_id for elder in sheet}
    assert not re.search(r'tabindex="[1-9]', html)             # the natural order: row by row, box by box
    assert "hx-" not in html.split("<form", 1)[1].split("</form>")[0]  # a plain form: no JavaScript needed
    assert 'id="rows-0-start" inputmode="numeric"' in html and 'placeholder="0930"' in html  # digits, as on paper
    assert '<option value="good">1 ' in html                     # the number printed beside the tick box
    assert "Skip" not in html and "跳过" not in html              # offered only for a row with a problem


def test_a_sheet_keyed_in_writes_one_hand_entered_visit_per_filled_row(app, browser, world, session, sheet):
    html, rows = _open(browser, world)
    volunteer = world.volunteer_a.person_id
    first, second, third = sheet
    data = {"csrf_token": csrf_from(html), "idempotency_key": KEY.search(html).group(1), "day": DAY}
    data.update(_row(rows[first.person_id], first.person_id, volunteer, "", "09:00", "10:00", GOOD))
    data.update(_row(rows[second.person_id], second.person_id, volunteer))                      # left blank
    data.update(_row(rows[third.person_id], third.person_id, volunteer, DAY, "10:30", "11:15"))  # no ticks
    response = browser.client.post("/worker/visits/key-in", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    made = _visits(session)
    assert [(v.elder_id, v.method, v.status, v.entered_by_id) for v in made] == [
        (first.person_id, "worker", "done", world.worker_a.id), (third.person_id, "worker", "done", world.worker_a.id)]
    record = session.scalar(select(VisitRecord).where(VisitRecord.visit_id == made[0].id))
    assert record.channel == "paper" and record.answers == GOOD
    assert session.scalar(select(func.count(VisitRecord.id)).where(VisitRecord.visit_id == made[1].id)) == 0
    # the #12 rule for hand-entered visits: the elder is asked; the worker who keyed it cannot verify it
    assert session.scalar(select(func.count(PendingQuestion.person_id)).where(
        PendingQuestion.person_id == first.person_id)) == 1
    with pytest.raises(DomainError):
        visit_service.verify_by_worker(session, made[0], world.worker_a, NOW)
    session.rollback()
    assert session.scalar(select(func.count(Transfer.id)).where(Transfer.visit_id.in_([v.id for v in made]))) == 0
    assert _obligation(session, first).status in compliance.OPEN  # nothing counts before someone else confirms
    colleague = make_staff(session, "worker", world.community_a, "甲同事")
    visit_service.verify_by_worker(session, session.get(Visit, made[1].id), colleague, NOW)
    session.commit()
    assert session.get(Visit, made[1].id).status == "verified"
    assert _obligation(session, third).status == "done"
    # audited: the sheet and each visit with its elder
    events = session.execute(select(AuditEvent.subject_type, AuditEvent.elder_id).where(
        AuditEvent.actor_id == world.worker_a.id, AuditEvent.action == "create")).all()
    assert ("visit_sheet", None) in events
    assert {("visit", first.person_id), ("visit", third.person_id)} <= set(events)


def test_bad_rows_are_shown_at_once_and_nothing_is_written_until_they_are_skipped(browser, world, session, sheet):
    html, rows = _open(browser, world)
    volunteer = world.volunteer_a.person_id
    first, second, third = sheet
    partly = {"health": "good", "mood": "good"}
    data = {"csrf_token": csrf_from(html), "idempotency_key": KEY.search(html).group(1), "day": DAY}
    data.update(_row(rows[first.person_id], first.person_id, volunteer, "", "09:00", "10:00", GOOD))
    data.update(_row(rows[second.person_id], second.person_id, volunteer, "", "11:00", "10:00"))  # out before in
    data.update(_row(rows[third.person_id], third.person_id, volunteer, "", "14:00", "15:00", partly))
    refused = browser.client.post("/worker/visits/key-in", data=data)
    assert refused.status_code == 200
    page = refused.get_data(as_text=True)
    summary = page.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert "没有保存" in summary
    assert f"第{rows[second.person_id] + 1}行" in summary and "孙奶奶" in summary
    assert f"第{rows[third.person_id] + 1}行" in summary and "钱爷爷" in summary
    assert "甲老人" not in summary
    assert page.count('<label class="check"><input id="rows-') == 2  # "skip this row" on the two bad rows only
    assert _visits(session) == []
    # the two bad rows skipped explicitly: the good one is written, once
    again = {**data, "csrf_token": csrf_from(page), "idempotency_key": KEY.search(page).group(1),
             f"rows-{rows[second.person_id]}-skip": "y", f"rows-{rows[third.person_id]}-skip": "y"}
    assert browser.client.post("/worker/visits/key-in", data=again).status_code == 303
    assert [v.elder_id for v in _visits(session)] == [first.person_id]


def test_an_empty_sheet_says_so_and_writes_nothing(browser, world, session, sheet):
    html, _rows = _open(browser, world)
    response = browser.client.post("/worker/visits/key-in", data={"csrf_token": csrf_from(html)})
    assert response.status_code == 200 and "一行也没有填" in response.get_data(as_text=True)
    assert _visits(session) == []


def test_the_same_sheet_twice_writes_nothing_twice(browser, world, session, sheet):
    html, rows = _open(browser, world)
    first = sheet[0]
    data = {"csrf_token": csrf_from(html), "idempotency_key": KEY.search(html).group(1), "day": DAY}
    data.update(_row(rows[first.person_id], first.person_id, world.volunteer_a.person_id, "", "09:00", "10:00"))
    one = browser.client.post("/worker/visits/key-in", data=data)
    two = browser.client.post("/worker/visits/key-in", data=data)  # a double click: the same key
    assert (one.status_code, one.location) == (two.status_code, two.location) == (303, "/worker/visits/")
    assert len(_visits(session)) == 1
    # keyed in again on a fresh page (the sheet was on the pile twice): the row is refused, nothing written
    html, _rows = _open(browser, world)
    again = browser.client.post("/worker/visits/key-in", data={**data, "csrf_token": csrf_from(html),
                                                               "idempotency_key": KEY.search(html).group(1)})
    assert again.status_code == 200 and "这个时间已经有一次探访" in again.get_data(as_text=True)
    assert len(_visits(session)) == 1


def test_a_worker_cannot_key_in_elders_or_visitors_of_another_community(browser, world, session, sheet):
    volunteer_b = make_volunteer(session, world.community_b, "乙志愿者", verified_by=world.worker_b)
    session.commit()
    html, rows = _open(browser, world)
    assert world.elder_b.person_id not in rows and "乙老人" not in html and "乙志愿者" not in html
    token = csrf_from(html)
    elder_b = {"csrf_token": token, "day": DAY, **_row(0, world.elder_b.person_id, world.volunteer_a.person_id,
                                                         "", "09:00", "10:00")}
    refused = browser.client.post("/worker/visits/key-in", data=elder_b)
    assert refused.status_code == 200 and "乙老人" not in refused.get_data(as_text=True)
    assert "没有找到这条记录" in refused.get_data(as_text=True)
    own_elder = sheet[0].person_id
    visitor_b = {"csrf_token": token, "day": DAY, **_row(0, own_elder, volunteer_b.person_id, "", "09:00", "10:00")}
    assert browser.client.post("/worker/visits/key-in", data=visitor_b).status_code == 200
    assert _visits(session) == []
    # and worker B's page does not list community A's elders
    browser.client.post("/logout", data={"csrf_token": token})
    browser.login(world.worker_b.phone, PASSWORD)
    other = browser.get("/worker/visits/key-in").get_data(as_text=True)
    assert "甲老人" not in other and "孙奶奶" not in other


def test_a_date_outside_the_sheets_month_is_refused(browser, world, session, sheet):
    html, rows = _open(browser, world)
    first = sheet[0]
    data = {"csrf_token": csrf_from(html), **_row(rows[first.person_id], first.person_id, world.volunteer_a.person_id,
                                                  "2026-11-30", "09:00", "10:00")}
    response = browser.client.post("/worker/visits/key-in", data=data)
    assert response.status_code == 200 and "2026-12" in response.get_data(as_text=True)
    assert _visits(session) == []


def test_fuzz_sheet_entry_never_half_saves(browser, world, session, sheet):
    from hypothesis import HealthCheck, given, settings
    from werkzeug.datastructures import MultiDict

    from tests.fuzz.test_forms_fuzz import submissions

    html, rows = _open(browser, world)
    token = csrf_from(html)
    fields = ["day"] + [f"rows-{n}-{name}" for n in range(3)
                        for name in ("elder_id", "volunteer_id", "day", "start", "end", "skip", "health", "gas")]

    @settings(max_examples=25, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(submissions(fields))
    def run(pairs):
        data = MultiDict(pairs)
        data.setlist("csrf_token", [token])
        before = len(_visits(session))
        response = browser.client.post("/worker/visits/key-in", data=data)
        assert response.status_code in (200, 303), response.status_code
        if response.status_code == 200:
            assert len(_visits(session)) == before  # a refused sheet wrote nothing

    run()


@pytest.mark.parametrize(("raw", "expected"), [("14", "2026-12-14"), ("12-14", "2026-12-14"), ("2026-12-14", "2026-12-14"),
                                               ("2026/12/14", "2026-12-14"), ("12.14", "2026-12-14"), ("1", "2026-12-01")])
def test_a_day_is_typed_as_on_paper(raw, expected):
    from portal.services.visit_sheets import read_day

    assert read_day(raw, "2026-12").isoformat() == expected


@pytest.mark.parametrize("raw", ["", "x", "32", "11-30", "2026-11-14", "2026-12-32", "12-14-2026", "0"])
def test_a_day_outside_the_sheets_month_or_unreadable_is_refused(raw):
    from portal.services.visit_sheets import read_day

    with pytest.raises(DomainError):
        read_day(raw, "2026-12")


@pytest.mark.parametrize(("raw", "expected"), [("930", "09:30"), ("0930", "09:30"), ("9:30", "09:30"), ("9.30", "09:30"),
                                               ("9：30", "09:30"), ("9", "09:00"), ("2359", "23:59"), ("0001", "00:01")])
def test_a_time_is_typed_as_on_paper(raw, expected):
    from portal.services.visit_sheets import read_clock

    assert f"{read_clock(raw):%H:%M}" == expected


@pytest.mark.parametrize("raw", ["", "2400", "960", "12345", "9:3", "ab", "-930"])
def test_an_unreadable_time_is_refused(raw):
    from portal.services.visit_sheets import read_clock

    with pytest.raises(DomainError):
        read_clock(raw)


def test_days_and_times_typed_short_are_entered(browser, world, session, sheet):
    html, rows = _open(browser, world)
    first = sheet[0]
    data = {"csrf_token": csrf_from(html), "day": "14",
            **_row(rows[first.person_id], first.person_id, world.volunteer_a.person_id, "", "930", "1015")}
    assert browser.client.post("/worker/visits/key-in", data=data).status_code == 303
    (visit,) = _visits(session)
    assert visit.checked_in_at == datetime(2026, 12, 14, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
    assert visit.duration_minutes == 45
