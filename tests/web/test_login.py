import re

from sqlalchemy import select

from portal.models import LoginCode, OutboundMessage
from tests.factories import PASSWORD


def test_elder_logs_in_with_the_code_from_the_text(world, browser, session):
    phone = world.elder_a.person.phone
    response = browser.login(phone)
    assert response.headers["Location"].endswith("/home")
    home = browser.get("/elder/", follow_redirects=True).get_data(as_text=True)
    assert "甲老人" in home and "助餐" in home


def test_code_is_stored_hashed_and_scrubbed_from_the_outbox(world, browser, session):
    phone = world.elder_a.person.phone
    browser.post("/login", {"phone": phone})
    code = browser.last_code(phone)
    stored = session.scalar(select(LoginCode).where(LoginCode.phone == phone))
    assert code not in stored.code_hash and stored.code_hash.startswith("$argon2")
    sent = session.scalar(select(OutboundMessage).where(OutboundMessage.to_phone == phone))
    assert sent.status == "sent" and code not in sent.body


def test_same_answer_for_registered_and_unknown_numbers(world, browser):
    known = browser.post("/login", {"phone": world.elder_a.person.phone})
    unknown = browser.post("/login", {"phone": "+8613999999999"})
    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"]
    assert browser.transport.messages_to("+8613999999999") == []


def test_sixth_try_is_refused_even_with_the_right_code(world, browser):
    phone = world.elder_a.person.phone
    browser.post("/login", {"phone": phone})
    code = browser.last_code(phone)
    for _ in range(5):
        page = browser.post("/login/code", {"code": "000000" if code != "000000" else "111111"})
        assert page.status_code == 200
    page = browser.post("/login/code", {"code": code})
    assert page.status_code == 200
    assert "错误次数太多" in page.get_data(as_text=True)


def test_resend_is_throttled(world, browser):
    phone = world.elder_a.person.phone
    assert browser.post("/login", {"phone": phone}).status_code == 303
    again = browser.post("/login", {"phone": phone})
    assert again.status_code == 200
    assert "请等一分钟" in again.get_data(as_text=True)
    assert len([m for m in browser.transport.messages_to(phone) if m.kind == "login_code"]) == 1


def test_invalid_number_keeps_what_was_typed(browser):
    page = browser.post("/login", {"phone": "138 0000"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "这不是一个有效的电话号码" in html
    assert 'value="138 0000"' in html


def test_worker_must_also_give_a_password(world, browser):
    phone = world.worker_a.phone
    browser.post("/login", {"phone": phone})
    response = browser.post("/login/code", {"code": browser.last_code(phone)})
    assert response.headers["Location"].endswith("/login/password")
    assert browser.get("/worker/").status_code == 302  # not signed in yet
    wrong = browser.post("/login/password", {"password": "wrong password"})
    assert "密码不对" in wrong.get_data(as_text=True)
    ok = browser.post("/login/password", {"password": PASSWORD})
    assert ok.status_code == 303
    assert browser.get("/worker/").status_code == 200


def test_expired_code_is_refused(world, browser, session):
    from datetime import timedelta

    phone = world.elder_a.person.phone
    browser.post("/login", {"phone": phone})
    code = browser.last_code(phone)
    stored = session.scalar(select(LoginCode).where(LoginCode.phone == phone))
    stored.expires_at = stored.created_at - timedelta(seconds=1)
    session.commit()
    page = browser.post("/login/code", {"code": code})
    assert page.status_code == 200 and "已过期" in page.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(world, client):
    response = client.post("/login", data={"phone": world.elder_a.person.phone})
    assert response.status_code == 400


def test_login_code_never_reaches_the_log_without_dev_tools(world, app, browser, caplog):
    from portal.channels.transport import ConsoleTransport

    quiet = ConsoleTransport(show_secrets=False)
    app.extensions["linli"].transport = quiet
    browser.transport = quiet
    with caplog.at_level("INFO"):
        browser.post("/login", {"phone": world.elder_a.person.phone})
    code = re.search(r"\d{6}", quiet.sent[-1].body).group(0)
    assert code not in caplog.text
    assert "redacted" in caplog.text
