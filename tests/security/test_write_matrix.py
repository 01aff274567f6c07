"""The write half of the authorization matrix: every POST route × every role, sent a *valid* form
aimed at community A's records. Where the matrix refuses the role (403, 404 or the login page) the
database must be exactly as it was — a refusal that still wrote something is a hole the read half
cannot see. Where the matrix lets worker A act, the same forms do change something."""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from portal.db import Base
from tests.conftest import csrf_from
from tests.security.conftest import ROLES, sign_in_as, url_values
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
        "completion.excuse": {"reason": "hospital"},
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
