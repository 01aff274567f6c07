"""XSS scenarios for the administrator's forms, registered in tests/security/test_xss.py."""
from __future__ import annotations

from sqlalchemy import select

from portal.models import Area
from portal.web.admin_forms import AreaForm, StaffForm
from tests.factories import PASSWORD
from tests.security.test_xss import ESCAPED, PAYLOAD, Pages, text_fields


def scenario_area_form(world, browser, app, session):
    browser.login(world.admin.phone, PASSWORD)
    for field in text_fields(AreaForm):
        pages = Pages()
        data = {"new-name": "新社区", "new-parent_id": world.street_a.id, "new-hotline": "", f"new-{field}": PAYLOAD}
        pages.add("form", browser.post("/admin/areas/new", data, page="/admin/areas"))
        pages.add("areas", browser.get("/admin/areas"))
        pages.assert_escaped(f"AreaForm.{field}")


def scenario_rename_area_form(world, browser, app, session):
    browser.login(world.admin.phone, PASSWORD)
    pages = Pages()
    area_id = world.community_b.id
    pages.add("rename", browser.post(f"/admin/areas/{area_id}/rename", {f"rename-{area_id}-name": PAYLOAD},
                                     page="/admin/areas"))
    pages.add("areas", browser.get("/admin/areas"))
    pages.assert_escaped("RenameAreaForm.name")
    assert session.scalar(select(Area.name).where(Area.id == area_id)) == PAYLOAD


def scenario_staff_form(world, browser, app, session):
    browser.login(world.admin.phone, PASSWORD)
    for n, field in enumerate(text_fields(StaffForm)):
        pages = Pages()
        data = {"name": "新员工", "phone": f"+8613700000{n:03d}", "role": "worker",
                "area_ids": [world.community_a.id], field: PAYLOAD}
        pages.add("form", browser.post("/admin/staff/new", data, page="/admin/staff"))
        pages.add("staff", browser.get("/admin/staff"))
        pages.assert_escaped(f"StaffForm.{field}")


def scenario_first_password_form(world, browser, app, session):
    world.worker_a.password_hash = None
    session.commit()
    browser.post("/login", {"phone": world.worker_a.phone})
    browser.post("/login/code", {"code": browser.last_code(world.worker_a.phone)})
    response = browser.post("/login/new-password", {"password": PAYLOAD, "confirmation": PAYLOAD + "!"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "error-summary" in html
    assert PAYLOAD not in html and ESCAPED not in html, "a password must never be echoed back"


FORM_SCENARIOS = {
    "AreaForm": scenario_area_form,
    "RenameAreaForm": scenario_rename_area_form,
    "StaffForm": scenario_staff_form,
    "FirstPasswordForm": scenario_first_password_form,
}
# POST routes of these pages, for ROUTE_SCENARIOS in tests/security/test_xss.py
FLASKFORM_ROUTES = ("admin.new_area", "admin.rename", "admin.new_staff", "staff_password.choose",
                    "people_import.upload")  # the sheet's cells: test_people_import::test_sheet_cells_are_shown_escaped
NO_FREE_TEXT_ROUTES = ("admin.staff_member", "admin.reset_password", "admin.retire_member", "admin.retire",
                       "admin.restore", "people_import.columns", "people_import.preview")
