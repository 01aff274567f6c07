"""XSS: a script payload typed into every text field of every form comes back escaped, wherever it
is shown — the re-rendered form, the record's pages, the lists."""
from __future__ import annotations

import inspect

from wtforms import PasswordField, StringField, TextAreaField

from portal.ratelimit import make_limiter
from portal.web import forms
from tests.factories import PASSWORD

# Short enough for every length limit (relation: 20 characters).
PAYLOAD = "<script>x()</script>"
ESCAPED = "&lt;script&gt;x()&lt;/script&gt;"
ATTR_PAYLOAD = '"><img src=x onerror=x()>'


def text_fields(form_class) -> list[str]:
    return [name for name, field in inspect.getmembers(form_class)
            if getattr(field, "field_class", None) in (StringField, TextAreaField, PasswordField)]


def all_form_classes(app) -> dict[str, type]:
    """Every FlaskForm subclass defined anywhere in the app (the app imports all its blueprints)."""
    found, todo = {}, list(forms.FlaskForm.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("portal."):
            found[cls.__name__] = cls
    return found


def form_classes(app):
    return {name: cls for name, cls in all_form_classes(app).items() if text_fields(cls)}


def _valid_elder(world, n: int) -> dict:
    return {"name": "测试老人", "phone": f"+8613600000{n:03d}", "community_id": str(world.community_a.id),
            "address": "甲社区 1 栋", "birth_date": "1940-01-01", "living_situation": "alone",
            "ability_level": "1", "preferred_channel": "sms", "contact_name": "儿子", "contact_phone": "",
            "contact_relation": "儿子", "tier_override": "", "tier_override_reason": ""}


class Pages:
    """Collects every page a scenario produced and checks the payload never appears raw."""

    def __init__(self):
        self.seen: list[tuple[str, str]] = []

    def add(self, where: str, response):
        assert response.status_code < 500, (where, response.status_code)
        self.seen.append((where, response.get_data(as_text=True)))

    def assert_escaped(self, field: str):
        raw = [where for where, html in self.seen if PAYLOAD in html or ATTR_PAYLOAD in html]
        assert not raw, f"{field}: payload rendered unescaped on {raw}"
        assert any(ESCAPED in html or "&lt;img src=x" in html for _, html in self.seen), \
            f"{field}: the typed value was not shown back anywhere (the test proves nothing)"


def _elder_pages(browser, pages: Pages, elder_id: int | None):
    pages.add("worker list", browser.get("/worker/"))
    if elder_id:
        for suffix in ("", "/edit", "/card"):
            pages.add(f"elder{suffix}", browser.get(f"/worker/elders/{elder_id}{suffix}"))


def scenario_elder_form(world, browser, app, session):
    from sqlalchemy import select

    from portal.models import Person

    browser.login(world.worker_a.phone, PASSWORD)
    for n, field in enumerate(text_fields(forms.ElderForm)):
        pages = Pages()
        data = _valid_elder(world, n)
        data[field] = PAYLOAD if field not in ("contact_name",) else ATTR_PAYLOAD
        if field == "tier_override_reason":
            data["tier_override"] = "high_risk"
        response = browser.post("/worker/elders/new", data, page="/worker/elders/new")
        pages.add("form", response)
        elder_id = None
        if response.status_code == 303:
            elder_id = session.scalar(select(Person.id).where(Person.phone == data["phone"]))
        _elder_pages(browser, pages, elder_id)
        pages.assert_escaped(f"ElderForm.{field}")


def scenario_volunteer_form(world, browser, app, session):
    browser.login(world.worker_a.phone, PASSWORD)
    for n, field in enumerate(text_fields(forms.VolunteerForm)):
        pages = Pages()
        data = {"name": "志愿者", "phone": f"+8613500000{n:03d}", "community_id": str(world.community_a.id),
                "services": "meal", field: PAYLOAD}
        pages.add("form", browser.post("/worker/volunteers/new", data))
        pages.add("volunteers", browser.get("/worker/volunteers"))
        pages.assert_escaped(f"VolunteerForm.{field}")


def scenario_family_link_form(world, browser, app, session):
    from tests.conftest import Browser

    browser.login(world.family_a.phone)
    for field in text_fields(forms.FamilyLinkForm):
        pages = Pages()
        data = {"elder_phone": world.elder_b.person.phone, "relation": "儿子", field: PAYLOAD}
        pages.add("form", browser.post("/family/link", data))
        pages.add("family home", browser.get("/family/"))
        # Where the elder and the workers see the relation typed by the family member.
        for who, password, urls in ((world.elder_b.person, None, ["/elder/"]),
                                    (world.worker_b, PASSWORD, ["/worker/family-links",
                                                                f"/worker/elders/{world.elder_b.person_id}"])):
            app.extensions["linli"].limiter = make_limiter(None)
            other = Browser(app.test_client(), browser.transport)
            other.login(who.phone, password)
            for url in urls:
                pages.add(url, other.get(url))
        pages.assert_escaped(f"FamilyLinkForm.{field}")


def scenario_phone_form(world, browser, app, session):
    pages = Pages()
    pages.add("login", browser.post("/login", {"phone": PAYLOAD}))
    pages.assert_escaped("PhoneForm.phone")


def scenario_code_form(world, browser, app, session):
    pages = Pages()
    browser.post("/login", {"phone": world.elder_a.person.phone})
    pages.add("code", browser.post("/login/code", {"code": PAYLOAD}))
    pages.add("code page", browser.get("/login/code"))
    # The code field keeps what was typed so the person can correct it.
    pages.assert_escaped("CodeForm.code")


def scenario_password_form(world, browser, app, session):
    browser.post("/login", {"phone": world.worker_a.phone})
    browser.post("/login/code", {"code": browser.last_code(world.worker_a.phone)})
    response = browser.post("/login/password", {"password": PAYLOAD})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert PAYLOAD not in html and ESCAPED not in html, "a password must never be echoed back"


def scenario_search_form(world, browser, app, session):
    browser.login(world.worker_a.phone, PASSWORD)
    pages = Pages()
    pages.add("search", browser.get("/worker/", query_string={"q": PAYLOAD}))
    pages.add("search partial", browser.get("/worker/", query_string={"q": PAYLOAD},
                                            headers={"HX-Request": "true", "HX-Target": "elder-list"}))
    pages.assert_escaped("SearchForm.q")


def scenario_checkin_opt_in_form(world, browser, app, session):
    """The time field is shown back in the error summary and the field itself."""
    browser.login(world.worker_a.phone, PASSWORD)
    pages = Pages()
    for value in (PAYLOAD, ATTR_PAYLOAD):
        pages.add("opt-in", browser.post("/worker/checkins/opt-in", {"elder_id": "0", "call_time": value},
                                         page="/worker/checkins/"))
    pages.assert_escaped("CheckInOptInForm.call_time")


def scenario_sheet_entry_form(world, browser, app, session):
    """A keyed-in paper sheet: the day and the times typed are shown back in their boxes."""
    browser.login(world.worker_a.phone, PASSWORD)
    pages = Pages()
    for value in (PAYLOAD, ATTR_PAYLOAD):
        pages.add("sheet again", browser.post("/worker/visits/key-in", {
            "day": value, "rows-0-elder_id": str(world.elder_a.person_id), "rows-0-day": value,
            "rows-0-start": value, "rows-0-end": value}, page="/worker/visits/key-in"))
    pages.assert_escaped("SheetEntryForm day, start, end")


SCENARIOS = {
    "CheckInOptInForm": scenario_checkin_opt_in_form,
    "SheetEntryForm": scenario_sheet_entry_form,
    "ElderForm": scenario_elder_form,
    "VolunteerForm": scenario_volunteer_form,
    "FamilyLinkForm": scenario_family_link_form,
    "PhoneForm": scenario_phone_form,
    "CodeForm": scenario_code_form,
    "PasswordForm": scenario_password_form,
    "SearchForm": scenario_search_form,
}
from tests.admin.xss_scenarios import FORM_SCENARIOS as ADMIN_FORM_SCENARIOS  # noqa: E402

SCENARIOS.update(ADMIN_FORM_SCENARIOS)


def test_every_form_with_text_fields_has_an_xss_scenario(app):
    missing = sorted(set(form_classes(app)) - set(SCENARIOS))
    assert not missing, f"forms with text fields but no XSS scenario in {__file__}: {missing}"


import pytest  # noqa: E402


@pytest.mark.parametrize("form_name", sorted(SCENARIOS))
def test_payloads_in_every_text_field_are_rendered_escaped(form_name, world, browser, app, session):
    SCENARIOS[form_name](world, browser, app, session)


# ---------------------------------------------------------------- forms written as plain HTML
# (requests, visits, the time bank, the completion list): every POST route is listed here with the
# scenario that types the payload into its free-text fields, or why it has none.

def _login(browser, person, password=None):
    browser.login(person.phone, password)


def scenario_request_conversation(world, browser, app, session):
    """The elder's own words on the last question of a meal order: check page, status, worker list."""
    from portal.models import ServiceRequest
    from tests.conftest import Browser

    _login(browser, world.elder_a.person)
    pages = Pages()
    browser.get("/requests/new?service=meal")
    for answer in ("lunch", "tomorrow", "3"):
        assert browser.post("/requests/step", {"answer": answer}, page="/requests/step").status_code == 303
    pages.add("step", browser.post("/requests/step", {"other": PAYLOAD}, page="/requests/step"))
    pages.add("check", browser.get("/requests/check"))
    browser.post("/requests/check", {}, page="/requests/check")
    reference = session.scalars(select(ServiceRequest.reference).order_by(ServiceRequest.id.desc())).first()
    pages.add("status", browser.get(f"/requests/{reference}"))
    app.extensions["linli"].limiter = make_limiter(None)
    worker = Browser(app.test_client(), browser.transport)
    worker.login(world.worker_a.phone, PASSWORD)
    pages.add("worker requests", worker.get("/worker/requests/"))
    pages.add("worker status", worker.get(f"/requests/{reference}"))
    pages.assert_escaped("requests.step other")


def scenario_visit_check_out(world, browser, app, session):
    """A volunteer's notes: the form shown again after a wrong code, the worker's follow-up list."""
    from portal.models import Visit
    from tests.conftest import Browser

    _login(browser, world.volunteer_a.person)
    pages = Pages()
    code = world.elder_a.door_code
    assert browser.post("/volunteer/visits/check-in", {"code": code}, page="/volunteer/visits/").status_code == 303
    visit_id = session.scalar(select(Visit.id).where(Visit.volunteer_id == world.volunteer_a.person_id))
    url = f"/volunteer/visits/{visit_id}/check-out"
    wrong = "0" if code != "0" * len(code) else "1"
    pages.add("form again", browser.post(url, {"code": wrong * len(code), "notes": PAYLOAD}, page=url))
    pages.add("checked out", browser.post(url, {"code": code, "notes": PAYLOAD, "flags": "unwell"}, page=url))
    worker = Browser(app.test_client(), browser.transport)
    app.extensions["linli"].limiter = make_limiter(None)
    worker.login(world.worker_a.phone, PASSWORD)
    pages.add("follow-ups", worker.get("/worker/visits/follow-ups"))
    pages.assert_escaped("visits.check_out notes")


def scenario_worker_visit(world, browser, app, session):
    _login(browser, world.worker_a, PASSWORD)
    pages = Pages()
    pages.add("form again", browser.post("/worker/visits/new", {"notes": PAYLOAD, "day": PAYLOAD},
                                         page="/worker/visits/new"))
    pages.assert_escaped("visits_worker.new notes")


def scenario_major_event(world, browser, app, session):
    _login(browser, world.worker_a, PASSWORD)
    pages = Pages()
    url = f"/worker/completion/elders/{world.elder_a.person_id}/event"
    pages.add("form again", browser.post(url, {"note": PAYLOAD, "kind": "", "occurred_at": PAYLOAD}, page=url))
    pages.assert_escaped("completion.major_event note")


def scenario_gift(world, browser, app, session):
    _login(browser, world.elder_a.person)
    pages = Pages()
    pages.add("form again", browser.post("/time-bank/gift", {"recipient": PAYLOAD, "amount": PAYLOAD},
                                         page="/time-bank/gift"))
    pages.add("confirm refused", browser.post("/time-bank/gift/confirm", {"recipient": PAYLOAD, "amount": PAYLOAD},
                                              page="/time-bank/gift"))
    pages.assert_escaped("timebank.gift amount")


def scenario_pool_allocation(world, browser, app, session):
    """The worker's reason for a pool allocation, shown in the pool's list."""
    from portal.services import ledger
    from portal.services import visits as visit_service
    from tests.timebank.helpers import visit

    done = visit(session, world.volunteer_a.person, world.elder_a)
    visit_service.verify_by_worker(session, done, world.worker_a, done.checked_out_at)
    ledger.give(session, world.volunteer_a.person, "pool", 30, done.checked_out_at)
    session.commit()
    _login(browser, world.worker_a, PASSWORD)
    pages = Pages()
    pages.add("form again", browser.post("/time-bank/pool/allocate", {"elder": PAYLOAD, "amount": PAYLOAD,
                                                                      "reason": PAYLOAD}, page="/time-bank/pool"))
    allocated = browser.post("/time-bank/pool/allocate", {"elder": str(world.elder_a.person_id), "amount": "10",
                                                          "reason": PAYLOAD}, page="/time-bank/pool")
    assert allocated.status_code == 303, allocated.get_data(as_text=True)
    pages.add("pool", browser.get("/time-bank/pool"))
    pages.assert_escaped("timebank.allocate reason")


def scenario_reverse(world, browser, app, session):
    """The worker's reason for a correction, shown in the person's history."""
    from portal.models import Transfer
    from portal.services import visits as visit_service
    from tests.timebank.helpers import visit

    done = visit(session, world.volunteer_a.person, world.elder_a)
    visit_service.confirm_by_elder(session, done, world.elder_a.person, "web", done.checked_out_at)
    session.commit()
    transfer_id = session.scalar(select(Transfer.id).where(Transfer.visit_id == done.id))
    _login(browser, world.worker_a, PASSWORD)
    pages = Pages()
    url = f"/worker/visits/transfers/{transfer_id}/reverse"
    pages.add("reversed", browser.post(url, {"reason": PAYLOAD}, page=url))
    pages.add("history", browser.get(f"/worker/visits/people/{world.volunteer_a.person_id}/history"))
    pages.assert_escaped("visits_worker.reverse reason")


def scenario_check_in(world, browser, app, session):
    """A mistyped door code is kept in the field so it can be corrected."""
    _login(browser, world.volunteer_a.person)
    pages = Pages()
    pages.add("form again", browser.post("/volunteer/visits/check-in", {"code": PAYLOAD}, page="/volunteer/visits/"))
    pages.assert_escaped("visits.check_in code")


def scenario_phone_simulator(world, browser, app, session):
    """The simulator's text (shown in the thread) and call fields, in an app with the dev tools on."""
    from portal import create_app
    from tests.conftest import Browser

    dev = Browser(create_app({**app.config, "LINLI_DEV_TOOLS": True}).test_client(), browser.transport)
    pages = Pages()
    sent = dev.post("/dev/phone/text", {"person": "unknown", "body": PAYLOAD}, page="/dev/phone")
    pages.add("thread", dev.get(sent.headers["Location"]))
    pages.add("call refused", dev.post("/dev/phone/call", {"person": "unknown", "action": PAYLOAD,
                                                          "speech": PAYLOAD}, page="/dev/phone"))
    pages.assert_escaped("phone simulator body, speech")


def scenario_emergency_coming(world, browser, app, session):
    """The name a worker types for who is going is shown to the worker, the elder and the family."""
    from portal.db import utcnow
    from portal.services import emergencies
    from tests.conftest import Browser

    found = emergencies.raise_alarm(session, world.elder_a, "web", utcnow())
    session.commit()
    browser.login(world.worker_a.phone, PASSWORD)
    pages = Pages()
    page = f"/worker/requests/{found.reference}/emergency"
    pages.add("form", browser.post(f"{page}/coming", {"responder_name": PAYLOAD}, page=page))
    pages.add("worker page", browser.get(page))
    pages.add("worker banner", browser.get("/worker/"))
    elder = Browser(app.test_client(), browser.transport)
    elder.login(world.elder_a.person.phone)
    pages.add("elder page", elder.get(f"/requests/emergency/{found.reference}"))
    pages.assert_escaped("EmergencyComingForm.responder_name")


SCENARIOS.update({
    "StepForm": scenario_request_conversation,
    "EmergencyComingForm": scenario_emergency_coming,
    "CheckInForm": scenario_check_in,
    "CheckOutForm": scenario_visit_check_out,
    "WorkerVisitForm": scenario_worker_visit,
    "ReverseForm": scenario_reverse,
    "PoolAllocationForm": scenario_pool_allocation,
    "SimulatorTextForm": scenario_phone_simulator,
    "SimulatorCallForm": scenario_phone_simulator,
})

from sqlalchemy import select  # noqa: E402

NO_FREE_TEXT = "no free text: buttons, choices from a list or ids, checked by the authorization matrix"
ROUTE_SCENARIOS = {
    "requests.step": scenario_request_conversation,
    "visits.check_out": scenario_visit_check_out,
    "visits_worker.new": scenario_worker_visit,
    "completion.major_event": scenario_major_event,
    "timebank.gift": scenario_gift,
    "timebank.gift_confirm": "covered by the gift scenario (the same fields)",
    "visits_worker.reverse": scenario_reverse,
    "timebank.allocate": scenario_pool_allocation,
    "worker_requests.emergency_coming": scenario_emergency_coming,
    "visits.check_in": scenario_check_in,
    "phone.text": "dev tool only (LINLI_DEV_TOOLS, refused in production); its thread is autoescaped",
    "phone.call": "dev tool only; digits and a URL, no free text shown",
    **{name: NO_FREE_TEXT for name in (
        "requests.check", "requests.cancel", "requests.refuse", "requests.confirm", "requests.emergency",
        "volunteer_requests.accept", "volunteer_requests.decline", "volunteer_requests.start",
        "volunteer_requests.finish", "worker_requests.assign", "worker_requests.acknowledge", "visits.door",
        "requests.stand_down", "worker_requests.emergency_resolve",
        "visits.elder_answer", "timebank.pay", "visits_worker.verify", "visits_worker.close_follow_up",
        "completion.assign", "completion.excuse", "completion.deactivate", "completion.bulk_assign",
        "completion.undo", "visits.record", "main.set_language",
        "main.set_text_size", "auth.logout", "elder.decide_link", "elder.daily_call", "worker.pair_elder", "worker.verify",
        "worker.decide_link", "worker.reissue_card", "checkins.seen", "family.notifications")},
    # FlaskForm classes: covered by SCENARIOS above.
    **{name: "FlaskForm, see SCENARIOS" for name in (
        "auth.login", "auth.code", "auth.password", "family.link", "worker.new_elder", "worker.edit_elder",
        "worker.new_volunteer", "checkins.opt_in", "visits_worker.key_in")},
}
from tests.admin import xss_scenarios as admin_pages  # noqa: E402

ROUTE_SCENARIOS.update({name: "FlaskForm, see tests/admin/xss_scenarios.py" for name in admin_pages.FLASKFORM_ROUTES})
ROUTE_SCENARIOS.update({name: NO_FREE_TEXT for name in admin_pages.NO_FREE_TEXT_ROUTES})


def test_every_post_route_has_an_xss_scenario_or_a_reason(app):
    from tests.security.test_authorization_matrix import is_webhook

    posts = {rule.endpoint for rule in app.url_map.iter_rules()
             if "POST" in rule.methods and not is_webhook(app, rule.endpoint)}
    missing = sorted(posts - set(ROUTE_SCENARIOS) - {"phone.text", "phone.call"})
    assert not missing, f"POST routes without an XSS scenario or a reason in ROUTE_SCENARIOS: {missing}"


@pytest.mark.parametrize("endpoint", sorted(k for k, v in ROUTE_SCENARIOS.items() if callable(v)))
def test_payloads_in_plain_html_forms_are_rendered_escaped(endpoint, world, browser, app, session):
    ROUTE_SCENARIOS[endpoint](world, browser, app, session)
