"""The administrator's area page: add, rename, retire (history kept), each audited and scoped."""
from __future__ import annotations

from sqlalchemy import select

from portal.models import Area, AuditEvent
from tests.factories import PASSWORD, make_staff


def test_admin_adds_renames_and_retires_a_community(world, session, browser):
    browser.login(world.admin.phone, PASSWORD)
    page = browser.get("/admin/areas")
    assert page.status_code == 200 and world.community_a.name in page.get_data(as_text=True)
    response = browser.post("/admin/areas/new", {"new-name": "新风社区", "new-parent_id": world.street_a.id},
                            page="/admin/areas")
    assert response.status_code == 303, response.get_data(as_text=True)
    new = session.scalar(select(Area).where(Area.name == "新风社区"))
    assert new.level == "community" and new.path == f"{world.street_a.path}{new.id}/"

    response = browser.post(f"/admin/areas/{new.id}/rename", {f"rename-{new.id}-name": "新风村"}, page="/admin/areas")
    assert response.status_code == 303
    session.expire_all()
    assert session.get(Area, new.id).name == "新风村"

    response = browser.post(f"/admin/areas/{new.id}/retire", {}, page="/admin/areas")
    assert response.status_code == 303
    session.expire_all()
    assert session.get(Area, new.id).retired_at is not None
    actions = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.subject_type == "area"))]
    assert actions == ["create", "update", "retire"]


def test_invalid_forms_rerender_with_an_error_summary(world, session, browser):
    browser.login(world.admin.phone, PASSWORD)
    response = browser.post("/admin/areas/new", {"new-name": "", "new-parent_id": world.street_a.id},
                            page="/admin/areas")
    assert response.status_code == 200 and "error-summary" in response.get_data(as_text=True)
    response = browser.post("/admin/areas/new", {"new-name": world.community_b.name,
                                                 "new-parent_id": world.community_b.parent_id}, page="/admin/areas")
    assert response.status_code == 200 and "error-summary" in response.get_data(as_text=True)


def test_a_community_with_elders_cannot_be_retired(world, session, browser):
    browser.login(world.admin.phone, PASSWORD)
    response = browser.post(f"/admin/areas/{world.community_a.id}/retire", {}, page="/admin/areas")
    assert response.status_code == 200 and "error-summary" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Area, world.community_a.id).retired_at is None


def test_an_admin_of_one_street_sees_and_changes_only_that_street(world, session, browser):
    street_admin = make_staff(session, "admin", world.street_a, "街道管理员")
    session.commit()
    browser.login(street_admin.phone, PASSWORD)
    page = browser.get("/admin/areas").get_data(as_text=True)
    assert world.community_a.name in page and world.community_b.name not in page
    response = browser.post(f"/admin/areas/{world.community_b.id}/rename",
                            {f"rename-{world.community_b.id}-name": "改名"}, page="/admin/areas")
    assert response.status_code == 404
    response = browser.post("/admin/areas/new", {"new-name": "越界社区", "new-parent_id": world.street_b.id},
                            page="/admin/areas")
    assert response.status_code == 200
    assert session.scalar(select(Area).where(Area.name == "越界社区")) is None
