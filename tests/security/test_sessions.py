"""Sessions can be ended (issue 12, point 5): a per-person session version bumped on logout, role
change and phone change ends every copy of the cookie; a half-finished login expires in minutes;
the client-address binding trusts only the configured proxy hops."""
from __future__ import annotations

from datetime import timedelta

import pytest

from portal.db import utcnow
from portal.services.people import grant
from tests.factories import PASSWORD

ELDER_HOME = "/elder/"


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(app, cookie: str, path: str, **environ):
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other.get(path, environ_base=environ)


def _signed_in(response) -> bool:
    return response.status_code == 200


def test_a_cookie_copied_before_logout_is_dead_after_it(app, world, browser):
    browser.login(world.elder_a.person.phone)
    copied = _cookie(browser.client)
    assert _signed_in(_replay(app, copied, ELDER_HOME))
    browser.logout()
    assert not _signed_in(_replay(app, copied, ELDER_HOME))


@pytest.mark.parametrize("change", ["role", "phone"])
def test_a_role_or_phone_change_ends_every_session(change, app, world, browser, session):
    browser.login(world.elder_a.person.phone)
    copied = _cookie(browser.client)
    person = world.elder_a.person
    if change == "role":
        grant(session, person, "family", world.community_a.id)
    else:
        browser.logout()
        browser.login(world.worker_a.phone, PASSWORD)
        form = {"name": person.name, "phone": "+8613955556666", "community_id": str(world.community_a.id),
                "address": "甲社区 1 栋", "birth_date": "1940-05-01", "living_situation": "alone",
                "ability_level": "1", "preferred_channel": "sms", "tier_override": ""}
        assert browser.post(f"/worker/elders/{person.id}/edit", form).status_code == 303
    session.commit()
    assert not _signed_in(_replay(app, copied, ELDER_HOME))


def test_a_half_finished_login_expires_in_minutes(app, world, browser, monkeypatch):
    worker = world.worker_a
    browser.post("/login", {"phone": worker.phone})
    assert browser.post("/login/code", {"code": browser.last_code(worker.phone)}).status_code == 303
    saved = _cookie(browser.client)
    later = utcnow() + timedelta(minutes=11)
    monkeypatch.setattr("portal.web.auth.utcnow", lambda: later)
    replay = app.test_client()
    replay.set_cookie("session", saved)
    page = replay.get("/login/password")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")


def test_a_forged_forwarded_for_does_not_carry_a_session_to_another_address(app, world, client, transport):
    from tests.conftest import Browser

    browser = Browser(client, transport)
    client.environ_base["REMOTE_ADDR"] = "192.0.2.10"
    browser.login(world.elder_a.person.phone)
    copied = _cookie(client)
    assert _signed_in(_replay(app, copied, ELDER_HOME, REMOTE_ADDR="192.0.2.10"))
    stolen = app.test_client()
    stolen.set_cookie("session", copied)
    response = stolen.get(ELDER_HOME, environ_base={"REMOTE_ADDR": "198.51.100.7"},
                          headers={"X-Forwarded-For": "192.0.2.10"})
    assert not _signed_in(response)
