"""Admins create workers and officers, move them, reset their passwords and retire them; all audited."""
from __future__ import annotations

from sqlalchemy import select

from portal.models import AuditEvent, Person
from tests.factories import PASSWORD, make_staff

NEW_PASSWORD = "a-new-password-26"


def _login_choosing_password(browser, phone, password=NEW_PASSWORD):
    response = browser.post("/login", {"phone": phone})
    assert response.status_code == 303
    response = browser.post("/login/code", {"code": browser.last_code(phone)})
    assert response.headers["Location"].endswith("/login/password")
    response = browser.client.get("/login/password")
    assert response.status_code == 303 and response.headers["Location"].endswith("/login/new-password")
    page = browser.get("/login/new-password").get_data(as_text=True)
    assert "error-summary" not in page
    mismatch = browser.post("/login/new-password", {"password": password, "confirmation": password + "x"})
    assert mismatch.status_code == 200 and "error-summary" in mismatch.get_data(as_text=True)
    return browser.post("/login/new-password", {"password": password, "confirmation": password})


def test_admin_creates_a_worker_for_two_communities_who_chooses_a_password(world, session, browser, client):
    browser.login(world.admin.phone, PASSWORD)
    response = browser.post("/admin/staff/new", {
        "name": "赵敏", "phone": "139 1111 2222", "role": "worker",
        "area_ids": [world.community_a.id, world.community_b.id]}, page="/admin/staff")
    assert response.status_code == 303, response.get_data(as_text=True)
    worker = session.scalar(select(Person).where(Person.phone == "+8613911112222"))
    assert {(g.role, g.area_id) for g in worker.grants} == {("worker", world.community_a.id),
                                                            ("worker", world.community_b.id)}
    assert worker.password_hash is None
    browser.logout()
    response = _login_choosing_password(browser, worker.phone)
    assert response.status_code == 303
    assert browser.get("/worker/").status_code == 200
    session.expire_all()
    assert session.get(Person, worker.id).password_hash


def test_move_reset_and_retire_are_audited(world, session, browser):
    browser.login(world.admin.phone, PASSWORD)
    worker = world.worker_a
    response = browser.post(f"/admin/staff/{worker.id}", {"area_ids": [world.community_b.id]},
                            page=f"/admin/staff/{worker.id}")
    assert response.status_code == 303
    session.expire_all()
    assert {g.area_id for g in session.get(Person, worker.id).grants if g.role == "worker"} == {world.community_b.id}
    empty = browser.post(f"/admin/staff/{worker.id}", {}, page=f"/admin/staff/{worker.id}")
    assert empty.status_code == 200 and "error-summary" in empty.get_data(as_text=True)

    assert browser.post(f"/admin/staff/{worker.id}/reset-password", {},
                        page=f"/admin/staff/{worker.id}").status_code == 303
    session.expire_all()
    assert session.get(Person, worker.id).password_hash is None

    assert browser.post(f"/admin/staff/{worker.id}/retire", {}, page=f"/admin/staff/{worker.id}").status_code == 303
    session.expire_all()
    retired = session.get(Person, worker.id)
    assert not retired.has_role("worker") and not retired.active
    actions = [e.action for e in session.scalars(
        select(AuditEvent).where(AuditEvent.subject_type == "staff").order_by(AuditEvent.id))]
    assert actions == ["update", "reset_password", "retire"]


def test_a_street_admin_cannot_touch_staff_or_numbers_outside_the_street(world, session, browser):
    street_admin = make_staff(session, "admin", world.street_a, "街道管理员")
    session.commit()
    browser.login(street_admin.phone, PASSWORD)
    page = browser.get("/admin/staff").get_data(as_text=True)
    assert world.worker_a.name in page and world.worker_b.name not in page
    assert browser.get(f"/admin/staff/{world.worker_b.id}").status_code == 404
    # worker B's number: refused with a message that says nothing about its owner
    response = browser.post("/admin/staff/new", {"name": "某人", "phone": world.worker_b.phone, "role": "officer",
                                                 "area_ids": [world.community_a.id]}, page="/admin/staff")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "error-summary" in html
    assert world.worker_b.name not in html and world.community_b.name not in html
    session.expire_all()
    assert session.get(Person, world.worker_b.id).roles() == {"worker"}
    # an area outside the street is not a choice
    response = browser.post("/admin/staff/new", {"name": "某人", "phone": "13922223333", "role": "worker",
                                                 "area_ids": [world.community_b.id]}, page="/admin/staff")
    assert response.status_code == 200
    assert session.scalar(select(Person).where(Person.phone == "+8613922223333")) is None
