"""Login codes: five tries per code, and no way to tell a registered number from an unknown one."""
from __future__ import annotations

import re

from tests.conftest import csrf_from


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_the_sixth_try_is_refused_even_with_the_right_code(world, browser):
    phone = world.elder_a.person.phone
    assert browser.post("/login", {"phone": phone}).status_code == 303
    code = browser.last_code(phone)
    for attempt in range(5):
        response = browser.post("/login/code", {"code": _wrong(code)})
        assert response.status_code == 200, attempt
        assert "验证码不对" in response.get_data(as_text=True)
    response = browser.post("/login/code", {"code": code})
    assert response.status_code == 200, "the sixth try must not sign in"
    assert "/elder" not in response.headers.get("Location", "")
    assert browser.get("/elder/").status_code == 302  # still signed out


def _code_page_for(client_factory, phone_typed: str) -> tuple[int, str, str]:
    client = client_factory()
    html = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"phone": phone_typed, "csrf_token": csrf_from(html)})
    location = response.headers.get("Location", "")
    page = client.get("/login/code").get_data(as_text=True)
    page = re.sub(r'value="[^"]+"', 'value=""', page)  # CSRF tokens differ per session
    page = re.sub(r'"X-CSRFToken": "[^"]+"', "TOKEN", page)
    page = re.sub(r"\d{3} \d{4} \d{4}", "PHONE", page)
    return response.status_code, location, page


def test_registered_and_unknown_numbers_get_the_same_answer(world, app, transport):
    registered = _code_page_for(app.test_client, world.elder_a.person.phone)
    unknown = _code_page_for(app.test_client, "+8613911112222")
    assert registered == unknown
    assert registered[0] == 303
    # ...while only the registered number actually got a text.
    assert transport.messages_to(world.elder_a.person.phone)
    assert not transport.messages_to("+8613911112222")


def test_a_code_is_never_written_to_the_log(world, browser, caplog, app):
    from portal.channels.transport import ConsoleTransport

    app.extensions["linli"].transport = ConsoleTransport(show_secrets=False)
    browser.transport = app.extensions["linli"].transport
    with caplog.at_level("DEBUG"):
        browser.post("/login", {"phone": world.elder_a.person.phone})
    sent = [m for m in browser.transport.sent if m.kind == "login_code"]
    assert sent
    code = re.search(r"\d{6}", sent[-1].body).group(0)
    assert code not in caplog.text
