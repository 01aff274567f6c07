"""/dev/phone: text and call the portal through signed webhooks, see the thread (dev tools only)."""
from __future__ import annotations

import html

import pytest
from flask import Blueprint, Response

from portal.channels.twilio_hooks import twilio_webhook


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
    assert "帮助" in thread and "看说明回复" in thread and "平台回复" in thread


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
    assert "退订" in partial and "不再给您发短信" in partial and "平台发来" in partial


def test_an_unknown_number_and_an_empty_text(app, browser, world):
    response = browser.post("/dev/phone/text", {"person": "unknown", "body": "订餐"}, page="/dev/phone")
    thread = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "没有在我们这里登记" in thread
    response = browser.post("/dev/phone/text", {"person": "unknown", "body": "   "}, page="/dev/phone")
    assert "请先写好短信内容" in browser.get(response.headers["Location"]).get_data(as_text=True)


def test_the_simulator_needs_csrf(app, client, world):
    assert client.post("/dev/phone/text", data={"person": "unknown", "body": "x"}).status_code == 400


def test_calling_without_a_voice_channel_says_so(app, browser, world):
    if has_voice(app):
        pytest.skip("the voice channel is installed")
    response = browser.post("/dev/phone/call", {"person": world.elder_a.person.id}, page="/dev/phone")
    assert response.status_code == 200
    assert "电话功能还没有装好" in response.get_data(as_text=True)


def test_calling_shows_what_is_said_and_the_keypad_posts_digits_to_the_gather_action(app, browser, world):
    if has_voice(app):
        pytest.skip("the real voice channel is installed; its own tests cover it")
    heard = []
    fake = Blueprint("fake_voice_for_test", __name__)

    @fake.route("/twilio/voice", methods=["POST"])
    @twilio_webhook
    def answer():
        from flask import request

        heard.append(("voice", request.form["From"], request.form.get("Digits")))
        return Response('<?xml version="1.0"?><Response><Gather input="dtmf speech" action="'
                        'https://linli.example.org/twilio/voice/menu?step=1"><Say language="cmn-CN">'
                        '您好，订餐请按1</Say></Gather></Response>', mimetype="text/xml")

    @fake.route("/twilio/voice/menu", methods=["POST"])
    @twilio_webhook
    def menu():
        from flask import request

        heard.append(("menu", request.args.get("step"), request.form.get("Digits")))
        return Response('<?xml version="1.0"?><Response><Say language="cmn-CN">好的，已为您订餐</Say>'
                        '<Hangup/></Response>', mimetype="text/xml")

    app.register_blueprint(fake)
    elder = world.elder_a.person
    page = browser.post("/dev/phone/call", {"person": elder.id}, page="/dev/phone").get_data(as_text=True)
    assert "您好，订餐请按1" in page and 'value="/twilio/voice/menu?step=1"' in page
    call_sid = page.split('name="call_sid" value="')[1].split('"')[0]
    page = browser.post("/dev/phone/call", {"person": elder.id, "call_sid": call_sid,
                                            "action": "/twilio/voice/menu?step=1", "digits": "1"},
                        page="/dev/phone").get_data(as_text=True)
    assert "好的，已为您订餐" in page and "通话已结束" in page
    assert heard == [("voice", elder.phone, None), ("menu", "1", "1")]
    # Only our own webhooks can be targeted.
    assert browser.post("/dev/phone/call", {"person": elder.id, "action": "https://evil.example.com/x"},
                        page="/dev/phone").status_code == 400


def test_the_simulator_is_absent_without_dev_tools(database_url, transport, monkeypatch, tmp_path):
    from portal import create_app

    monkeypatch.setenv("LINLI_INSTANCE_PATH", str(tmp_path))
    plain = create_app({"TESTING": True, "SECRET_KEY": "x", "LINLI_DATABASE_URL": database_url,
                        "LINLI_TRANSPORT": transport, "LINLI_DEV_TOOLS": False})
    assert plain.test_client().get("/dev/phone").status_code == 404
    assert not plain.config.get("LINLI_WEBHOOK_TOKEN")
    plain.extensions["linli"].engine.dispose()


def test_a_call_from_wang_xiuying_greets_her_by_name_and_keys_walk_the_request_flow(app, browser, session):
    from sqlalchemy import select

    from portal.models import Person, ServiceRequest

    assert has_voice(app)
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    wang = session.scalar(select(Person).where(Person.phone == "+8613800000001"))
    page = browser.post("/dev/phone/call", {"person": wang.id}, page="/dev/phone").get_data(as_text=True)
    assert "王秀英，您好" in page and "按1" in page
    call_sid = page.split('name="call_sid" value="')[1].split('"')[0]
    for key in ("1", "1", "2", "2", "2"):  # meal, lunch, tomorrow, three days, less salt
        action = html.unescape(page.split('name="action" value="')[1].split('"')[0])
        assert action.startswith("/twilio/voice/answer")
        page = browser.post("/dev/phone/call", {"person": wang.id, "call_sid": call_sid, "action": action,
                                                "digits": key}, page="/dev/phone").get_data(as_text=True)
    assert "午餐" in page and "少盐" in page  # the answers read back before sending
    action = html.unescape(page.split('name="action" value="')[1].split('"')[0])
    page = browser.post("/dev/phone/call", {"person": wang.id, "call_sid": call_sid, "action": action,
                                            "digits": "1"}, page="/dev/phone").get_data(as_text=True)
    placed = session.scalar(select(ServiceRequest).where(ServiceRequest.elder_id == wang.id))
    assert placed.placed_via == "voice" and placed.details["days"] == "3"
    assert " ".join(placed.reference) in page and "通话已结束" in page
