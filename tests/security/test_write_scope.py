"""Every state-changing step checks the actor's scope on the object it changes (issue 12, point 2),
and door codes and cards are bounded, revocable and name nobody to a stranger (point 3)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.channels.inbound import dispatch_sms
from portal.db import utcnow
from portal.models import ElderProfile, RequestDecline, ServiceRequest, Visit
from portal.services import door
from portal.services import requests as service_requests
from tests.factories import PASSWORD
from tests.timebank.helpers import T0


def _far_request(world, session):
    """A request in a community of another street (not in volunteer A's feed)."""
    return service_requests.create_request(session, world.elder_b, world.elder_b.person, "web", "meal", {}, None,
                                           utcnow())


@pytest.mark.parametrize("action", ["accept", "decline", "start", "finish"])
def test_a_volunteer_acts_only_on_requests_in_their_feed_and_unknown_looks_the_same(action, world, browser,
                                                                                   session):
    far = _far_request(world, session)
    session.commit()
    browser.login(world.volunteer_a.person.phone)
    far_answer = browser.post(f"/volunteer/requests/{far.reference}/{action}", {}, page="/volunteer/requests/")
    unknown = browser.post(f"/volunteer/requests/R-NOPE99/{action}", {}, page="/volunteer/requests/")
    assert far_answer.status_code == unknown.status_code == 404
    session.expire_all()
    request = session.get(ServiceRequest, far.id)
    assert request.status == "open" and request.volunteer_id is None
    assert session.scalar(select(func.count(RequestDecline.id))) == 0


def test_a_volunteer_still_accepts_a_request_in_their_own_community(world, browser, session):
    near = service_requests.create_request(session, world.elder_a, world.elder_a.person, "web", "meal", {}, None,
                                           utcnow())
    session.commit()
    browser.login(world.volunteer_a.person.phone)
    assert browser.post(f"/volunteer/requests/{near.reference}/accept", {},
                        page="/volunteer/requests/").status_code == 303
    session.expire_all()
    assert session.get(ServiceRequest, near.id).volunteer_id == world.volunteer_a.person_id


@pytest.mark.parametrize("how", ["web-code", "web-qr", "sms-code"])
def test_a_volunteer_cannot_check_in_at_an_elder_of_another_community(how, world, browser, session, app):
    outsider = world.elder_b
    if how == "sms-code":
        with app.test_request_context("/twilio/sms", method="POST"):
            reply = dispatch_sms(session, world.volunteer_a.person, f"到 {outsider.door_code}", T0)
        assert outsider.person.name not in reply
    else:
        browser.login(world.volunteer_a.person.phone)
        if how == "web-code":
            response = browser.post("/volunteer/visits/check-in", {"code": outsider.door_code},
                                    page="/volunteer/visits/")
        else:
            token = door.door_token(app.config["SECRET_KEY"], outsider)
            response = browser.post(f"/d/{token}", {"decision": "yes"})
        assert outsider.person.name not in response.get_data(as_text=True)
    assert session.scalar(select(func.count(Visit.id))) == 0


def test_checking_out_by_text_names_no_elder_to_a_stranger(world, session, app):
    with app.test_request_context("/twilio/sms", method="POST"):
        reply = dispatch_sms(session, world.volunteer_a.person, f"走 {world.elder_b.door_code}", T0)
    assert world.elder_b.person.name not in reply


def test_door_codes_are_long_enough_that_a_guess_rarely_hits_at_district_scale(world, session):
    code = world.elder_a.door_code
    assert len(code) >= 8
    space = 9 * 10 ** (len(code) - 1)  # no leading zero
    # One guess against 130,000 elders of a district hits someone less than 0.1 % of the time even
    # before codes are narrowed to the volunteer's own community.
    assert 130_000 / space < 0.002
    assert 5 * 5_000 / space < 0.001  # five tries at a community of 5,000 before the lock


def test_reprinting_a_door_card_revokes_the_old_card_and_code(world, browser, session, app):
    elder = world.elder_a
    old_token, old_code = door.door_token(app.config["SECRET_KEY"], elder), elder.door_code
    browser.login(world.worker_a.phone, PASSWORD)
    response = browser.post(f"/worker/elders/{elder.person_id}/card/reissue", {},
                            page=f"/worker/elders/{elder.person_id}/card")
    assert response.status_code == 303
    session.expire_all()
    fresh = session.get(ElderProfile, elder.person_id)
    assert fresh.door_code != old_code
    assert door.door_token(app.config["SECRET_KEY"], fresh) != old_token
    browser.logout()
    browser.login(world.volunteer_a.person.phone)
    assert browser.get(f"/d/{old_token}").status_code == 404
    response = browser.post("/volunteer/visits/check-in", {"code": old_code}, page="/volunteer/visits/")
    assert response.status_code == 200
    assert session.scalar(select(func.count(Visit.id))) == 0


def test_a_worker_of_another_area_cannot_reissue_a_card(world, browser, session):
    browser.login(world.worker_b.phone, PASSWORD)
    code = world.elder_a.door_code
    response = browser.post(f"/worker/elders/{world.elder_a.person_id}/card/reissue", {}, page="/worker/")
    assert response.status_code == 404
    session.expire_all()
    assert session.get(ElderProfile, world.elder_a.person_id).door_code == code
