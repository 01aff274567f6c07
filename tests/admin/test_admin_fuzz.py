"""Fuzz the administrator's and importer's forms: never a 500, and a refused post changes no table."""
from __future__ import annotations

import io

from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import select

from portal.models import ImportBatch, Person
from tests.conftest import csrf_from
from tests.factories import PASSWORD
from tests.fuzz.test_forms_fuzz import FUZZ, Poster, submissions, table_counts, value


def _admin(world, browser, app, page="/admin/areas"):
    browser.login(world.admin.phone, PASSWORD)
    poster = Poster(app, browser)
    poster.refresh_token(page)
    return poster


def _refused_changes_nothing(session, poster, url, pairs, allowed=None):
    before = table_counts(session)
    response = poster.post(url, pairs)
    after = table_counts(session)
    changed = {name for name in before if before[name] != after[name]} - {"audit_events"}
    if response.status_code not in (302, 303):
        assert not changed, (url, changed, pairs[:4])
    elif allowed is not None:
        assert changed <= allowed, (url, changed - allowed)


def test_fuzz_area_forms(world, browser, app, session):
    poster = _admin(world, browser, app)
    area = world.community_b.id

    @FUZZ
    @given(st.booleans(), submissions(["name", "parent_id", "hotline"]))
    @example(True, [("name", "新社区\x00"), ("parent_id", "1")])
    @example(False, [("name", "长" * 500)])
    def run(new, pairs):
        if new:
            _refused_changes_nothing(session, poster, "/admin/areas/new", [(f"new-{k}", v) for k, v in pairs],
                                     allowed={"areas"})
        else:
            _refused_changes_nothing(session, poster, f"/admin/areas/{area}/rename",
                                     [(f"rename-{area}-{k}", v) for k, v in pairs], allowed=set())

    run()


def test_fuzz_staff_forms(world, browser, app, session):
    poster = _admin(world, browser, app, page="/admin/staff")
    ids = [str(world.community_a.id), str(world.street_b.id)]

    @FUZZ
    @given(st.booleans(), submissions(["name", "phone", "role"]),
           st.lists(st.sampled_from(ids) | value, max_size=3))
    @example(True, [("name", "赵敏"), ("phone", "13912345678"), ("role", "officer")], ["999999"])
    def run(new, pairs, area_ids):
        pairs = pairs + [("area_ids", a) for a in area_ids]
        if new:
            _refused_changes_nothing(session, poster, "/admin/staff/new", pairs, allowed={"people", "role_grants"})
        else:
            _refused_changes_nothing(session, poster, f"/admin/staff/{world.worker_b.id}",
                                     [p for p in pairs if p[0] == "area_ids"], allowed={"role_grants"})

    run()


def test_fuzz_first_password(world, browser, app, session):
    world.worker_a.password_hash = None
    session.commit()
    browser.post("/login", {"phone": world.worker_a.phone})
    browser.post("/login/code", {"code": browser.last_code(world.worker_a.phone)})
    poster = Poster(app, browser)
    poster.refresh_token("/login/new-password")

    @FUZZ
    @given(submissions(["password", "confirmation"]))
    def run(pairs):
        _refused_changes_nothing(session, poster, "/login/new-password", pairs, allowed={"people", "login_codes"})

    run()


def test_fuzz_sheet_import(world, browser, app, session):
    browser.login(world.worker_a.phone, PASSWORD)
    poster = Poster(app, browser)
    poster.refresh_token("/import/")
    community = str(world.community_a.id)

    @FUZZ
    @given(st.lists(st.lists(value, max_size=5), max_size=6), st.sampled_from(["a.csv", "a.xlsx", "a.txt", ""]),
           submissions(["name", "phone", "id_number", "birth_date", "address", "community", "living_situation"]),
           st.lists(value, max_size=3))
    @example([["姓名", "手机号码", "住址", "出生日期"], ["王\x00", "1", "", "1900-02-30"]], "a.csv",
             [("name", "姓名"), ("phone", "手机号码"), ("address", "住址")], ["2", "x"])
    def run(rows, filename, mapping, skip):
        text = "\n".join(",".join(cell.replace(",", " ").replace("\n", " ") for cell in row) for row in rows)
        token = csrf_from(browser.get("/import/").get_data(as_text=True))
        before = table_counts(session)
        response = browser.client.post("/import/", data={
            "csrf_token": token, "kind": "elders", "community_id": community,
            "sheet": (io.BytesIO(text.encode("utf-8", "surrogatepass")), filename)},
            content_type="multipart/form-data")
        assert response.status_code < 500
        if response.status_code != 303:
            assert table_counts(session) == before
            return
        columns = response.headers["Location"]
        poster.token = csrf_from(browser.get(columns).get_data(as_text=True))
        poster.post(columns, mapping)
        preview = columns.replace("/columns", "/preview")
        page = browser.get(preview, follow_redirects=True)
        assert page.status_code < 500
        poster.token = csrf_from(page.get_data(as_text=True))
        people = session.scalar(select(Person.id).order_by(Person.id.desc()).limit(1))
        response = poster.post(preview, [("skip", s) for s in skip])
        if response.status_code not in (302, 303):
            session.expire_all()
            assert session.scalar(select(Person.id).order_by(Person.id.desc()).limit(1)) == people
        session.expire_all()
        assert all(b.rows is None for b in session.scalars(select(ImportBatch).where(ImportBatch.status == "done")))

    run()
