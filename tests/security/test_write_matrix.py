"""The write half of the authorization matrix: every POST route × every role, sent a *valid* form
aimed at community A's records. Where the matrix refuses the role (403, 404 or the login page) the
database must be exactly as it was — a refusal that still wrote something is a hole the read half
cannot see. Where the matrix lets worker A act, the same forms do change something."""
from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from portal.db import Base
from tests.conftest import csrf_from
from tests.factories import make_person, next_phone
from tests.security.conftest import ROLES, records_in, sign_in_as, url_values
from tests.security.test_authorization_matrix import LOGIN, MATRIX

# Tables whose rows a refused request may legitimately add (what was looked at, sign-in codes,
# form keys) or that a login itself touches.
UNWATCHED = {"audit_events", "idempotency_keys", "login_codes", "outbound_messages", "job_runs",
             "scheduler_heartbeats"}


def valid_forms(world) -> dict[str, dict]:
    """A form each POST route would act on (unlisted routes act on an empty form or not at all)."""
    elder = world.elder_a
    return {
        "worker.edit_elder": {"name": "改名", "phone": elder.person.phone, "community_id": str(world.community_a.id),
                              "address": "改地址", "birth_date": "1940-05-01", "living_situation": "alone",
                              "ability_level": "1", "preferred_channel": "sms", "tier_override": ""},
        "worker.pair_elder": {"volunteer_id": str(world.volunteer_a.person_id)},
        "worker.decide_link": {"decision": "approve"},
        "elder.decide_link": {"decision": "approve"},
        "worker_requests.assign": {"volunteer_id": str(world.volunteer_a.person_id)},
        "completion.assign": {"assignee": str(world.volunteer_a.person_id)},
        "completion.excuse": {"reason": "in_hospital"},
        "visits_worker.reverse": {"reason": "录错了"},
        "visits.check_out": {"code": elder.door_code},
        "visits.elder_answer": {"answer": "yes"},
        "visits.door": {},
        "timebank.gift_confirm": {"recipient": "pool", "amount": "1"},
    }


def fingerprint(session) -> str:
    session.expire_all()
    digest = hashlib.sha256()
    for table in sorted(Base.metadata.sorted_tables, key=lambda t: t.name):
        if table.name in UNWATCHED:
            continue
        rows = session.execute(select(table)).all()
        digest.update(table.name.encode())
        for row in sorted(repr(tuple(r)) for r in rows):
            digest.update(row.encode())
    return digest.hexdigest()


def _post_routes(app):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and (rule.endpoint, "POST") in MATRIX and not rule.endpoint.startswith(
                ("auth.", "main.", "phone.", "dev.")):
            yield rule


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"] + ["anonymous"])
def test_a_refused_write_changes_nothing(role, secure_world, browser, app, session):
    sign_in_as(browser, secure_world, role)
    token = csrf_from(browser.get("/login").get_data(as_text=True))
    values, forms = url_values(secure_world), valid_forms(secure_world)
    column = ROLES.index(role)
    leaked = []
    for rule in sorted(_post_routes(app), key=lambda r: r.endpoint):
        expected = MATRIX[(rule.endpoint, "POST")][column]
        if expected not in (403, 404, LOGIN):
            continue
        url = rule.build({k: v for k, v in values.items() if k in rule.arguments}, append_unknown=False)[1]
        before = fingerprint(session)
        browser.client.post(url, data={"csrf_token": token, **forms.get(rule.endpoint, {})})
        if fingerprint(session) != before:
            leaked.append(f"{rule.endpoint} as {role} was refused but changed the database")
    assert not leaked, "\n".join(leaked)


@pytest.mark.parametrize("endpoint", ["worker.edit_elder", "worker.pair_elder", "worker.decide_link",
                                      "worker_requests.assign", "worker.reissue_card"])
def test_the_same_forms_do_act_for_the_worker_in_scope(endpoint, secure_world, browser, app, session):
    sign_in_as(browser, secure_world, "worker_a")
    token = csrf_from(browser.get("/login").get_data(as_text=True))
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and "POST" in r.methods)
    values = url_values(secure_world)
    url = rule.build({k: v for k, v in values.items() if k in rule.arguments}, append_unknown=False)[1]
    before = fingerprint(session)
    browser.client.post(url, data={"csrf_token": token, **valid_forms(secure_world).get(endpoint, {})})
    assert fingerprint(session) != before


@pytest.mark.parametrize("role", ["elder", "family", "volunteer", "worker_a"])
def test_a_write_aimed_at_another_communitys_record_changes_nothing(role, secure_world, browser, app, session):
    """Every POST route that names a record, pointed at community B's records, by people of A."""
    sign_in_as(browser, secure_world, role)
    token = csrf_from(browser.get("/login").get_data(as_text=True))
    records = secure_world.extra["b"]
    values = url_values(secure_world, records)
    forms = valid_forms(secure_world)
    forms["visits.check_out"] = {"code": records["elder"].door_code}
    leaked = []
    for rule in sorted(_post_routes(app), key=lambda r: r.endpoint):
        if not rule.arguments:
            continue
        url = rule.build({k: v for k, v in values.items() if k in rule.arguments}, append_unknown=False)[1]
        before = fingerprint(session)
        response = browser.client.post(url, data={"csrf_token": token, **forms.get(rule.endpoint, {})})
        if fingerprint(session) != before:
            leaked.append(f"{rule.endpoint} as {role} on community B changed the database ({response.status_code})")
    assert not leaked, "\n".join(leaked)


# ---------------------------------------------------------------- valid forms aimed out of scope
#
# The tests above send the ids of a route's URL; many forms carry ids of their own (the community a
# new elder joins, the volunteer a visit is given to, the elder a visit is entered for, the area a
# new staff member works in). Here every id — in the URL and in the form — points at one target:
# community B (same district) for the people of community A, and community C of another district for
# the officer and the admin, whose scope is their district. The same forms aimed at community A act
# for someone who governs it, so a refusal below is a refusal and not a form that was never valid.

def _outside_district(session, app) -> dict:
    from portal.models import FamilyLink
    from portal.services.scope import add_area
    from tests.factories import make_elder, make_staff, make_volunteer

    district = add_area(session, "外区", "district")
    street = add_area(session, "丙街道", "street", district)
    community = add_area(session, "丙社区", "community", street)
    worker = make_staff(session, "worker", community, "丙工作者")
    elder = make_elder(session, community, "丙老人")
    volunteer = make_volunteer(session, community, "丙志愿者", verified_by=worker)
    family = make_person(session, "丙家属", role="family", area=community)
    session.add(FamilyLink(family_id=family.id, elder_id=elder.person_id, relation="儿子", status="approved"))
    session.commit()
    records = records_in(session, app, community, elder, volunteer.person, family)
    return {**records, "community": community, "street": street, "worker": worker}


@pytest.fixture()
def targets(secure_world, session, app) -> dict:
    """Community A's, B's and C's records, each with its community, street, worker and an open 助急."""
    from portal.db import utcnow
    from portal.services import emergencies

    world = secure_world
    found = {
        "a": {**world.extra, "community": world.community_a, "street": world.street_a, "worker": world.worker_a},
        "b": {**world.extra["b"], "community": world.community_b, "street": world.street_b, "worker": world.worker_b},
        "c": _outside_district(session, app),
    }
    for records in found.values():
        records["sos"] = emergencies.raise_alarm(session, records["elder"], "web", utcnow())
    session.commit()
    return found


def aimed_forms(records: dict) -> dict[str, dict]:
    """A valid form for each route whose form names a record, every id in it taken from `records`."""
    from datetime import timedelta

    from portal.clock import local_tz
    from portal.db import utcnow
    from portal.services.visit_records import HEADINGS

    elder, volunteer, community = records["elder"], records["volunteer"], records["community"]
    yesterday = (utcnow().astimezone(local_tz()) - timedelta(days=1)).date().isoformat()
    now_local = utcnow().astimezone(local_tz())
    # a visit 20 minutes ago, kept inside this month's sheet in the first minutes of a month
    recent = max(now_local - timedelta(minutes=20),
                 now_local.replace(day=1, hour=0, minute=0, second=0, microsecond=0))
    return {
        "worker.new_elder": {"name": "新老人", "phone": next_phone(), "community_id": str(community.id),
                             "address": "新地址 1 栋", "birth_date": "1941-02-03", "living_situation": "alone",
                             "ability_level": "1", "preferred_channel": "sms", "tier_override": ""},
        "worker.new_volunteer": {"name": "新志愿者", "phone": next_phone(), "community_id": str(community.id)},
        "worker.edit_elder": {"name": "改名", "phone": elder.person.phone, "community_id": str(community.id),
                              "address": "改地址", "birth_date": "1940-05-01", "living_situation": "alone",
                              "ability_level": "1", "preferred_channel": "sms", "tier_override": ""},
        "worker.pair_elder": {"volunteer_id": str(volunteer.id)},
        "worker_requests.assign": {"volunteer_id": str(volunteer.id)},
        "worker_requests.emergency_coming": {"responder_name": "张师傅"},
        "worker_requests.emergency_resolve": {"outcome": "visited"},
        "completion.assign": {"assignee": str(records["worker"].id)},
        "completion.bulk_assign": {"selected": str(records["obligation"].id), "assignee": str(records["worker"].id)},
        "completion.excuse": {"reason": "in_hospital"},
        "completion.major_event": {"kind": "fall", "occurred_at": f"{yesterday}T09:00", "note": "摔了一跤"},
        "visits_worker.new": {"volunteer_id": str(volunteer.id), "elder_id": str(elder.person_id), "day": yesterday,
                              "start": "09:00", "end": "10:00"},
        "visits_worker.reverse": {"reason": "录错了"},
        "visits.check_in": {"code": elder.door_code},
        "visits.record": {heading.key: heading.choices[0][0] for heading in HEADINGS},
        "checkins.opt_in": {"elder_id": str(elder.person_id), "call_time": "09:00"},
        # a sheet is this month's: a minute 20 minutes ago, after the records' own visits (which end an
        # hour ago); only in the first 20 minutes of a month is that minute in the month before
        "visits_worker.key_in": {"day": recent.date().isoformat(), "rows-0-elder_id": str(elder.person_id),
                                 "rows-0-volunteer_id": str(volunteer.id), "rows-0-start": f"{recent:%H:%M}",
                                 "rows-0-end": f"{recent + timedelta(minutes=1):%H:%M}"},
        "admin.new_area": {"new-name": "新社区", "new-parent_id": str(records["street"].id), "new-hotline": ""},
        "admin.new_staff": {"name": "新工作者", "phone": next_phone(), "role": "worker",
                            "area_ids": str(community.id)},
        "admin.staff_member": {"area_ids": str(community.id)},
        "admin.rename": {f"rename-{community.id}-name": "改名社区"},
    }


def aimed_url(rule, world, records: dict, endpoint: str) -> str:
    values = {**url_values(world, records), "area_id": records["community"].id, "staff_id": records["worker"].id,
              "community_id": records["community"].id}
    if endpoint.startswith("worker_requests.emergency"):
        values["reference"] = records["sos"].reference
    return rule.build({k: v for k, v in values.items() if k in rule.arguments}, append_unknown=False)[1]


def _rule(app, endpoint: str):
    return next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and "POST" in r.methods)


ERRORS = re.compile(r'class="[^"]*error[^"]*"[^>]*>(.*?)</', re.S)

# who is refused, aimed at which community's records
OUT_OF_SCOPE = [("elder", "b"), ("family", "b"), ("volunteer", "b"), ("worker_a", "b"), ("worker_a", "c"),
                ("worker_b", "c"), ("officer", "c"), ("officer", "a"), ("admin", "c")]


@pytest.mark.parametrize(("role", "target"), OUT_OF_SCOPE)
def test_a_valid_form_aimed_out_of_scope_changes_nothing(role, target, targets, secure_world, browser, app, session):
    sign_in_as(browser, secure_world, role)
    token = csrf_from(browser.get("/login").get_data(as_text=True))
    records = targets[target]
    forms = aimed_forms(records)
    leaked = []
    for rule in sorted(_post_routes(app), key=lambda r: r.endpoint):
        if not rule.arguments and rule.endpoint not in forms:
            continue  # no record named at all (the matrix's refusals cover these)
        before = fingerprint(session)
        response = browser.client.post(aimed_url(rule, secure_world, records, rule.endpoint),
                                       data={"csrf_token": token, **forms.get(rule.endpoint, {})})
        if fingerprint(session) != before:
            leaked.append(f"{rule.endpoint} as {role} aimed at community {target.upper()} changed the database "
                          f"({response.status_code})")
    assert not leaked, "\n".join(leaked)


# who governs community A's records and may act on them with the same forms
IN_SCOPE = [("worker_a", endpoint) for endpoint in (
    "worker.new_elder", "worker.new_volunteer", "worker.edit_elder", "worker.pair_elder", "worker_requests.assign",
    "worker_requests.emergency_coming", "worker_requests.emergency_resolve", "completion.assign",
    "completion.bulk_assign", "completion.excuse", "completion.major_event", "visits_worker.new",
    "visits_worker.reverse", "visits_worker.key_in", "checkins.opt_in")] + [
    ("volunteer", "visits.check_in"), ("volunteer", "visits.record"),
    ("admin", "worker.new_elder"), ("admin", "worker.edit_elder"),
    ("admin", "admin.new_area"), ("admin", "admin.new_staff"), ("admin", "admin.staff_member"), ("admin", "admin.rename")]


def test_every_aimed_form_is_tried_in_scope_and_names_a_route_of_the_matrix(secure_world, app):
    secure_world.extra["community"], secure_world.extra["street"] = secure_world.community_a, secure_world.street_a
    secure_world.extra["worker"] = secure_world.worker_a
    aimed = set(aimed_forms(secure_world.extra))
    assert {endpoint for _role, endpoint in IN_SCOPE} == aimed
    assert aimed <= {rule.endpoint for rule in _post_routes(app)}  # a renamed route is not silently skipped


@pytest.mark.parametrize(("role", "endpoint"), IN_SCOPE)
def test_the_aimed_form_acts_in_scope(role, endpoint, targets, secure_world, browser, app, session):
    sign_in_as(browser, secure_world, role)
    token = csrf_from(browser.get("/login").get_data(as_text=True))
    records = dict(targets["a"])
    if endpoint == "admin.staff_member":
        records["worker"] = secure_world.worker_b  # a worker of the admin's district, moved to community A
    rule = _rule(app, endpoint)
    before = fingerprint(session)
    response = browser.client.post(aimed_url(rule, secure_world, records, endpoint),
                                   data={"csrf_token": token, **aimed_forms(records)[endpoint]})
    assert fingerprint(session) != before, (response.status_code, ERRORS.findall(response.get_data(as_text=True)))


MIXED = [  # the record is the actor's own; the form moves it (or gives it) to someone out of scope
    ("worker_a", "worker.edit_elder", "b"), ("worker_a", "worker.pair_elder", "b"),
    ("worker_a", "worker_requests.assign", "b"), ("worker_a", "completion.assign", "b"),
    ("worker_a", "completion.bulk_assign", "b"), ("worker_a", "visits_worker.new", "b"),
    ("worker_a", "visits_worker.key_in", "b"),
    ("admin", "worker.edit_elder", "c"), ("admin", "admin.staff_member", "c"), ("admin", "admin.new_area", "c"),
]


@pytest.mark.parametrize(("role", "endpoint", "target"), MIXED)
def test_an_own_record_cannot_be_moved_or_given_out_of_scope(role, endpoint, target, targets, secure_world,
                                                            browser, app, session):
    sign_in_as(browser, secure_world, role)
    token = csrf_from(browser.get("/login").get_data(as_text=True))
    own = dict(targets["a"])
    if endpoint == "admin.staff_member":
        own["worker"] = secure_world.worker_b
    form = aimed_forms(targets[target])[endpoint]
    if endpoint == "completion.bulk_assign":
        form["selected"] = str(own["obligation"].id)  # her own elder, given to B's worker
    if endpoint == "visits_worker.new":
        form["elder_id"] = str(own["elder"].person_id)  # her own elder, a visitor of B
    if endpoint == "visits_worker.key_in":
        form["rows-0-elder_id"] = str(own["elder"].person_id)  # her own elder on the sheet, a visitor of B
    before = fingerprint(session)
    browser.client.post(aimed_url(_rule(app, endpoint), secure_world, own, endpoint),
                        data={"csrf_token": token, **form})
    assert fingerprint(session) == before
