"""Bulk import of elders and volunteers: every problem at once, nothing written until all are fixed or
skipped, a second import changes nothing, identity numbers never stored."""
from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import func, select

from portal.models import AuditEvent, ElderProfile, ImportMapping, Person, VolunteerProfile
from portal.services.identity import check_digit, normalize_id_number
from tests.factories import PASSWORD

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"


def _snapshot(session):
    session.expire_all()
    people = session.execute(select(Person.id, Person.phone, Person.name, Person.id_number_hash,
                                    Person.id_number_last4).order_by(Person.id)).all()
    elders = session.execute(select(ElderProfile.person_id, ElderProfile.community_id, ElderProfile.address,
                                    ElderProfile.birth_date, ElderProfile.gender, ElderProfile.living_situation,
                                    ElderProfile.hardship, ElderProfile.care_tier, ElderProfile.door_code,
                                    ElderProfile.updated_at).order_by(ElderProfile.person_id)).all()
    volunteers = session.execute(select(VolunteerProfile.person_id, VolunteerProfile.community_id,
                                        VolunteerProfile.services).order_by(VolunteerProfile.person_id)).all()
    return people, elders, volunteers


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_importing_the_sample_sheets_twice_leaves_the_same_database(app, session):
    assert _cli(app, "areas", "import", str(SAMPLES / "areas.csv")).exit_code == 0
    first = _cli(app, "people", "import", str(SAMPLES / "elders.xlsx"), "--community", "燕京社区")
    assert first.exit_code == 0, first.output
    assert "'created': 40" in first.output
    volunteers = _cli(app, "people", "import", str(SAMPLES / "volunteers.csv"), "--kind", "volunteers",
                      "--community", "燕京社区")
    assert volunteers.exit_code == 0 and "'created': 12" in volunteers.output, volunteers.output
    before = _snapshot(session)
    assert len(before[1]) == 40 and len(before[2]) == 12
    assert {row.community_id for row in before[1]} != {before[1][0].community_id}  # the community column counts
    again = _cli(app, "people", "import", str(SAMPLES / "elders.xlsx"), "--community", "燕京社区")
    assert "'unchanged': 40" in again.output, again.output
    _cli(app, "people", "import", str(SAMPLES / "volunteers.csv"), "--kind", "volunteers", "--community", "燕京社区")
    assert _snapshot(session) == before


def test_identity_numbers_are_checked_and_never_stored(app, session):
    body = "51019919420517001"
    assert normalize_id_number(body + check_digit(body)) == body + check_digit(body)
    assert _cli(app, "areas", "import", str(SAMPLES / "areas.csv")).exit_code == 0
    assert _cli(app, "people", "import", str(SAMPLES / "elders.xlsx"), "--community", "燕京社区").exit_code == 0
    from openpyxl import load_workbook

    sheet = load_workbook(SAMPLES / "elders.xlsx").active
    numbers = [row[3] for row in sheet.iter_rows(min_row=2, values_only=True)]
    dump = "\n".join(str(row) for table in _snapshot(session) for row in table)
    dump += "\n".join(str(e.detail) for e in session.scalars(select(AuditEvent)))
    assert not [n for n in numbers if n in dump or n[:14] in dump]
    last4 = session.scalar(select(Person.id_number_last4).where(Person.phone == "+8613700000001"))
    assert last4 == numbers[1][-4:]


def test_twenty_kinds_of_bad_row_are_all_shown_and_nothing_is_written(app, session):
    assert _cli(app, "areas", "import", str(SAMPLES / "areas.csv")).exit_code == 0
    result = _cli(app, "people", "import", str(SAMPLES / "elders-with-problems.xlsx"), "--community", "燕京社区")
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("row ")]
    rows_reported = {int(line.split()[1]) for line in lines}
    assert rows_reported == set(range(3, 23)), result.output  # every bad row (the sheet's rows 3-22), once
    for words in ("校验", "18 位", "不是", "出生日期", "社区", "住址", "居住情况", "困难类型", "性别", "第 2 行"):
        assert words in result.output, (words, result.output)
    assert session.scalar(select(func.count()).select_from(ElderProfile)) == 0
    assert session.scalar(select(func.count()).select_from(Person)) == 0
    skipped = _cli(app, "people", "import", str(SAMPLES / "elders-with-problems.xlsx"), "--community", "燕京社区",
                   "--skip-invalid")
    assert "'created': 1" in skipped.output and "'skipped': 20" in skipped.output, skipped.output


def _upload(browser, path: Path, kind="elders", community_id=None):
    html = browser.get("/import/").get_data(as_text=True)
    from tests.conftest import csrf_from

    return browser.client.post("/import/", data={
        "csrf_token": csrf_from(html), "kind": kind, "community_id": str(community_id),
        "sheet": (io.BytesIO(path.read_bytes()), path.name)}, content_type="multipart/form-data")


def test_worker_imports_on_the_pages_with_every_problem_in_chinese(world, session, browser, tmp_path):
    browser.login(world.worker_a.phone, PASSWORD)
    community = world.community_a
    sheet = tmp_path / "台账.csv"
    good_id = "51019919420517001"
    good_id += check_digit(good_id)
    sheet.write_text(
        "姓名,手机号码,身份证号,出生日期,住址,社区\n"
        f"李秀兰,13712340001,{good_id},1942-05-17,一栋101,{community.name}\n"
        f"张三,{world.elder_b.person.phone},,1940-01-01,二栋202,{community.name}\n"   # someone in community B
        f"王五,13712340003,,1940-13-01,三栋303,{world.community_b.name}\n", encoding="utf-8")
    response = _upload(browser, sheet, community_id=community.id)
    assert response.status_code == 303, response.get_data(as_text=True)
    columns_url = response.headers["Location"]
    page = browser.get(columns_url).get_data(as_text=True)
    assert 'selected value="姓名"' in page or 'value="姓名" selected' in page
    response = browser.post(columns_url, {"name": "姓名", "phone": "手机号码", "id_number": "身份证号",
                                          "birth_date": "出生日期", "address": "住址", "community": "社区"},
                            page=columns_url)
    assert response.status_code == 303
    assert session.scalar(select(ImportMapping.columns).where(ImportMapping.community_id == community.id))
    preview_url = response.headers["Location"]
    page = browser.get(preview_url).get_data(as_text=True)
    assert "不能在此导入中使用" in page            # the number of an elder in community B, said neutrally
    assert world.elder_b.person.name not in page and world.community_b.name in page  # (the typed community)
    assert "不是您负责的社区" in page and "1940-13-01" in page
    assert good_id not in page
    response = browser.post(preview_url, {}, page=preview_url)
    assert response.status_code == 200 and "error-summary" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(ElderProfile)) == 2  # the world's two elders only
    response = browser.post(preview_url, {"skip": ["3", "4"]}, page=preview_url)
    assert response.status_code == 303
    report = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "1" in report
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ElderProfile)) == 3
    assert session.get(Person, world.elder_b.person_id).name == world.elder_b.person.name
    # the same upload again: nothing new, reported as unchanged
    response = _upload(browser, sheet, community_id=community.id)
    preview_url = response.headers["Location"].replace("/columns", "/preview")
    response = browser.post(preview_url, {"skip": ["3", "4"]}, page=preview_url)
    assert response.status_code == 303
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ElderProfile)) == 3


def test_other_importers_uploads_are_not_found(world, session, browser, tmp_path):
    sheet = tmp_path / "a.csv"
    sheet.write_text("姓名,手机号码,住址,出生日期\n李秀兰,13712340001,一栋,1942-05-17\n", encoding="utf-8")
    browser.login(world.worker_a.phone, PASSWORD)
    url = _upload(browser, sheet, community_id=world.community_a.id).headers["Location"]
    browser.logout()
    browser.login(world.worker_b.phone, PASSWORD)
    assert browser.get(url).status_code == 404
    assert browser.get(url.replace("/columns", "/preview")).status_code == 404


def test_sheet_cells_are_shown_escaped(world, session, browser, tmp_path):
    payload = "<script>x()</script>"
    sheet = tmp_path / "xss.csv"
    sheet.write_text(f"姓名,手机号码,住址,出生日期,{payload}\n{payload},{payload},一栋,{payload},x\n", encoding="utf-8")
    browser.login(world.worker_a.phone, PASSWORD)
    columns_url = _upload(browser, sheet, community_id=world.community_a.id).headers["Location"]
    pages = [browser.get(columns_url).get_data(as_text=True)]
    browser.post(columns_url, {"name": "姓名", "phone": "手机号码", "address": "住址", "birth_date": "出生日期"},
                 page=columns_url)
    pages.append(browser.get(columns_url.replace("/columns", "/preview")).get_data(as_text=True))
    assert not [page for page in pages if payload in page]
    assert all("&lt;script&gt;" in page for page in pages)


def test_the_elder_page_shows_only_the_last_four_characters(world, session, browser, tmp_path):
    number = "51019919420517001"
    number += check_digit(number)
    sheet = tmp_path / "one.csv"
    sheet.write_text(f"姓名,手机号码,身份证号,住址\n李秀兰,13712340001,{number},一栋101\n", encoding="utf-8")
    browser.login(world.worker_a.phone, PASSWORD)
    columns = _upload(browser, sheet, community_id=world.community_a.id).headers["Location"]
    browser.post(columns, {"name": "姓名", "phone": "手机号码", "id_number": "身份证号", "address": "住址"}, page=columns)
    preview = columns.replace("/columns", "/preview")
    assert browser.post(preview, {}, page=preview).status_code == 303
    elder = session.scalar(select(Person).where(Person.phone == "+8613712340001"))
    page = browser.get(f"/worker/elders/{elder.id}").get_data(as_text=True)
    assert f"**************{number[-4:]}" in page and number[:14] not in page
