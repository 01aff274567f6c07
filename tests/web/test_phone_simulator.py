"""/dev/phone: text and call the portal through signed webhooks, see the thread (dev tools only)."""
from __future__ import annotations

import html

import pytest


@pytest.fixture()
def app_config(app_config):
    app_config["LINLI_DEV_TOOLS"] = True
    app_config["TWILIO_AUTH_TOKEN"] = ""
    return app_config


def has_voice(app) -> bool:
    return any(rule.rule == "/twilio/voice" for rule in app.url_map.iter_rules())


def test_texting_as_an_elder_shows_the_reply_in_the_thread(app, browser, world):
    elder = world.elder_a.person
    page = browser.get(f"/dev/phone?person={elder.id}").get_data(as_text=True)
    assert elder.name in page and "发送短信" in page
    response = browser.post("/dev/phone/text", {"person": elder.id, "body": "帮助"}, page=f"/dev/phone?person={elder.id}")
    assert response.status_code == 303
    thread = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "帮助" in thread and "要服务请回" in thread and "平台回复" in thread


def test_stop_shows_the_confirmation_text_and_htmx_gets_only_the_thread(app, browser, world):
    elder = world.elder_a.person
    html = browser.get(f"/dev/phone?person={elder.id}").get_data(as_text=True)
    from tests.conftest import csrf_from

    response = browser.client.post(
        "/dev/phone/text", data={"person": elder.id, "body": "退订", "csrf_token": csrf_from(html)},
        headers={"HX-Request": "true", "HX-Target": "phone-thread"},
    )
    partial = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in partial
    assert "退订" in partial and "不再发短信" in partial and "探访通知" in partial and "平台发来" in partial


def test_an_unknown_number_and_an_empty_text(app, browser, world):
    response = browser.post("/dev/phone/text", {"person": "unknown", "body": "订餐"}, page="/dev/phone")
    thread = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "没有在我们这里登记" in thread
    response = browser.post("/dev/phone/text", {"person": "unknown", "body": "   "}, page="/dev/phone")
    assert response.status_code == 200 and "请先写好短信内容" in response.get_data(as_text=True)


def test_the_simulator_needs_csrf(app, client, world):
    assert client.post("/dev/phone/text", data={"person": "unknown", "body": "x"}).status_code == 400


def test_the_simulator_only_calls_our_own_webhooks(app, browser, world):
    elder = world.elder_a.person
    for target in ("https://evil.example.com/x", "//evil.example.com/twilio/voice", "/dev/outbox"):
        response = browser.post("/dev/phone/call", {"person": elder.id, "action": target}, page="/dev/phone")
        # the form comes back with its error (status 200: htmx swaps no 4xx); nothing was called
        assert response.status_code == 200, target
        assert "error-summary" in response.get_data(as_text=True) and "🔊" not in response.get_data(as_text=True)


def test_the_simulator_is_absent_without_dev_tools(database_url, transport, monkeypatch, tmp_path):
    from portal import create_app

    monkeypatch.setenv("LINLI_INSTANCE_PATH", str(tmp_path))
    plain = create_app({"TESTING": True, "SECRET_KEY": "x", "LINLI_DATABASE_URL": database_url,
                        "LINLI_TRANSPORT": transport, "LINLI_DEV_TOOLS": False})
    assert plain.test_client().get("/dev/phone").status_code == 404
    assert not plain.config.get("LINLI_WEBHOOK_TOKEN")
    plain.extensions["linli"].engine.dispose()


def test_a_call_from_wang_xiuying_is_greeted_and_keys_walk_the_request_flow(app, browser, session):
    from sqlalchemy import select

    from portal.models import Person, ServiceRequest

    assert has_voice(app)
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    wang = session.scalar(select(Person).where(Person.phone == "+8613800000001"))
    page = browser.post("/dev/phone/call", {"person": wang.id}, page="/dev/phone").get_data(as_text=True)
    assert "您好，这里是邻里" in page and "按1" in page
    call_sid = page.split('name="call_sid" value="')[1].split('"')[0]
    for key in ("1", "1", "2", "2", "2"):  # meal, lunch, tomorrow, three days, less salt
        action = html.unescape(page.split('name="action" value="')[1].split('"')[0])
        assert action.startswith("/twilio/voice/answer")
        page = browser.post("/dev/phone/call", {"person": wang.id, "call_sid": call_sid, "action": action,
                                                "digits": key}, page="/dev/phone").get_data(as_text=True)
    assert "午饭" in page and "少盐" in page  # the answers read back before sending
    action = html.unescape(page.split('name="action" value="')[1].split('"')[0])
    page = browser.post("/dev/phone/call", {"person": wang.id, "call_sid": call_sid, "action": action,
                                            "digits": "1"}, page="/dev/phone").get_data(as_text=True)
    placed = session.scalar(select(ServiceRequest).where(ServiceRequest.elder_id == wang.id))
    assert placed.placed_via == "voice" and placed.details["days"] == "3"
    assert page.count(placed.reference) >= 2 and "通话已结束" in page
