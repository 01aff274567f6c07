"""Issue 3 "Done when", end to end on the real demo data.

Everything goes through what a person really touches: the web pages with CSRF on, and the
signed Twilio webhooks (/twilio/sms, /twilio/voice and the <Gather> action URLs the TwiML
names). Each step checks what the person would see, hear or receive.
"""
from __future__ import annotations

import html
import itertools
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.channels.twilio_hooks import sign
from portal.i18n import translate_for
from portal.models import Person, RequestEvent, ServiceRequest
from portal.policy import policy
from portal.services.demo import DEMO_PASSWORD
from tests.conftest import Browser

TOKEN = "demo-story-twilio-token"
PUBLIC_URL = "https://linli.example.org"
WANG = "+8613800000001"      # 王秀英, elder, prefers SMS
SON = "+8613800000002"       # 王磊, her son
LI_NA = "+8613800000003"     # 李娜, volunteer paired with her
ZHANG = "+8613800000004"     # 张伟, community worker of 燕京社区
_sids = itertools.count(1)


@pytest.fixture()
def app_config(app_config):
    app_config["TWILIO_AUTH_TOKEN"] = TOKEN
    return app_config


@pytest.fixture()
def demo(app, session, monkeypatch):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    # The story happens in the daytime, whenever the suite runs: no quiet hours for the elder's texts.
    monkeypatch.setitem(policy()["messages"], "quiet_start", "00:00")
    monkeypatch.setitem(policy()["messages"], "quiet_end", "00:00")
    return {phone: session.scalar(select(Person).where(Person.phone == phone)) for phone in (WANG, SON, LI_NA, ZHANG)}


class Phone:
    """A mobile phone: texts and calls reach the portal as signed Twilio webhooks."""

    def __init__(self, app, transport, number):
        self.client = app.test_client()
        self.transport = transport
        self.number = number
        self.call_sid = None
        self.action = None

    def _post(self, path_and_query, params):
        signature = sign(PUBLIC_URL + path_and_query, params, TOKEN)
        response = self.client.post(path_and_query, data=params, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_data(as_text=True)

    def text(self, body):
        """Send a text; returns the portal's reply (the TwiML <Message>), or None."""
        xml = self._post("/twilio/sms", {"MessageSid": f"SM{next(_sids):032x}", "AccountSid": "AC" + "0" * 32,
                                         "From": self.number, "To": "+8610690000000", "Body": body,
                                         "NumMedia": "0"})
        found = re.search(r"<Message>(.*)</Message>", xml, re.S)
        return html.unescape(found.group(1)) if found else None

    def received(self):
        """Bodies of the texts the portal sent to this phone (console transport), oldest first."""
        return [m.body for m in self.transport.messages_to(self.number) if m.channel == "sms"]

    def _heard(self, xml):
        root = ET.fromstring(xml)
        gather = root.find("Gather")
        self.action = None
        if gather is not None:
            url = urlsplit(gather.get("action"))
            self.action = url.path + ("?" + url.query if url.query else "")
        said = " ".join("".join(e.itertext()) for e in root.iter("Say"))
        assert all(e.get("language") == "cmn-CN" for e in root.iter("Say")), xml
        return said, xml

    def call(self):
        """Ring the portal; returns (what was said, the TwiML)."""
        self.call_sid = f"CA{next(_sids):032x}"
        return self._heard(self._post("/twilio/voice", {"CallSid": self.call_sid, "From": self.number,
                                                        "To": "+8610690000000"}))

    def press(self, key):
        """Press a key while the portal waits for an answer (posted to the <Gather> action URL)."""
        assert self.action, "the portal is not waiting for a key"
        return self._heard(self._post(self.action, {"CallSid": self.call_sid, "From": self.number,
                                                    "To": "+8610690000000", "Digits": key}))


def requests_of(session, elder_id):
    session.expire_all()
    return session.scalars(select(ServiceRequest).where(ServiceRequest.elder_id == elder_id)
                           .order_by(ServiceRequest.id)).all()


def browser_for(app, transport, phone, password=None):
    browser = Browser(app.test_client(), transport)
    browser.login(phone, password)
    return browser


def order_meal_on_the_web(browser):
    assert browser.get("/requests/new?service=meal").status_code == 303
    question = browser.get("/requests/step").get_data(as_text=True)
    assert translate_for("zh_Hans", "Which meals?") in question
    for answer in ("lunch", "tomorrow", "3", "low_salt"):
        response = browser.post("/requests/step", {"answer": answer})
        assert response.status_code == 303, response.get_data(as_text=True)
    check = browser.get("/requests/check").get_data(as_text=True)
    assert "午饭" in check and "少盐" in check and "三天" in check
    response = browser.post("/requests/check", {})
    assert response.status_code == 303
    return browser.get(response.headers["Location"]).get_data(as_text=True)


def order_cleaning_for(browser, elder_id):
    assert browser.get(f"/requests/new?elder={elder_id}").status_code == 303
    assert "正在为王秀英下单" in browser.get("/requests/step").get_data(as_text=True)
    for answer in ("cleaning", "tomorrow", "morning"):
        assert browser.post("/requests/step", {"answer": answer}).status_code == 303
    response = browser.post("/requests/check", {})
    assert response.status_code == 303
    return browser.get(response.headers["Location"]).get_data(as_text=True)


def volunteer_does(browser, reference):
    feed = browser.get("/volunteer/requests/").get_data(as_text=True)
    assert reference in feed and "王秀英" in feed
    for action in ("accept", "start", "finish"):
        response = browser.post(f"/volunteer/requests/{reference}/{action}", {}, page="/volunteer/requests/")
        assert response.status_code == 303
    assert "王秀英" in browser.get("/volunteer/requests/").get_data(as_text=True)


def test_wang_xiuying_orders_on_three_channels_her_son_orders_she_refuses_li_na_serves(app, session, transport, demo):
    wang, son, li_na = demo[WANG], demo[SON], demo[LI_NA]
    wang_phone, son_phone = Phone(app, transport, WANG), Phone(app, transport, SON)

    # 1. 王秀英 orders a meal on the web.
    elder_web = browser_for(app, transport, WANG)
    placed = order_meal_on_the_web(elder_web)
    web_meal = requests_of(session, wang.id)[0]
    assert web_meal.reference in placed and 'href="tel:0817-12349"' in placed
    # Her paired volunteer 李娜 (who offers meals) is told about it.
    assert any(web_meal.reference in body for body in Phone(app, transport, LI_NA).received())

    # 2. ... by text.
    assert "1 午饭" in wang_phone.text("订餐")
    assert "哪天" in wang_phone.text("1")
    assert "几天" in wang_phone.text("明天")
    assert translate_for("zh_Hans", "Anything about the food?") in wang_phone.text("3")
    check = wang_phone.text("少盐")
    assert "午饭" in check and "少盐" in check and "回1确认" in check.replace(" ", "")
    sent = wang_phone.text("1")
    sms_meal = requests_of(session, wang.id)[1]
    assert f"编号{sms_meal.reference}" in sent and "0817-12349" in sent

    # 3. ... by a call.
    said, _xml = wang_phone.call()
    assert said.startswith("您好，这里是邻里") and "按1" in said and "按0" in said and "按9" in said
    for key in ("1", "1", "2", "2", "2"):
        said, xml = wang_phone.press(key)
        assert "<Gather" in xml
    assert "午饭" in said and "少盐" in said and "按1" in said  # the answers read back
    said, xml = wang_phone.press("1")
    voice_meal = requests_of(session, wang.id)[2]
    # the reference is read digit by digit, twice
    assert said.count(voice_meal.reference) == 2 and "<Hangup" in xml
    assert f'<say-as interpret-as="digits">{voice_meal.reference}</say-as>' in xml
    meals = requests_of(session, wang.id)
    assert [(r.service, r.placed_via, r.details["meals"], r.details["diet"]) for r in meals] == [
        ("meal", "web", "lunch", "low_salt"), ("meal", "sms", "lunch", "low_salt"),
        ("meal", "voice", "lunch", "low_salt")]

    # 4. Her son 王磊 orders cleaning for her; she is told by text and refuses by replying 2.
    son_web = browser_for(app, transport, SON)
    placed = order_cleaning_for(son_web, wang.id)
    cleaning = requests_of(session, wang.id)[3]
    assert cleaning.reference in placed and cleaning.placed_by_id == son.id
    notice = [body for body in wang_phone.received() if cleaning.reference in body]
    assert notice and "王磊给您订了助洁" in notice[0] and "回2" in notice[0] and notice[0].startswith("【邻里】")
    reply = wang_phone.text("2")
    assert cleaning.reference in reply and "王磊" in reply
    assert requests_of(session, wang.id)[3].status == "refused"
    assert any("王秀英不需要助洁" in body for body in son_phone.received())
    son_view = son_web.get(f"/requests/{cleaning.reference}").get_data(as_text=True)
    assert "本人不需要" in son_view and "王秀英" in son_view
    # Nothing else was refused, and a second "2" has nothing left to refuse.
    assert [r.status for r in requests_of(session, wang.id)] == ["open", "open", "open", "refused"]

    # 5. 李娜 accepts and finishes the web meal; 王秀英 is told at each step.
    volunteer_does(browser_for(app, transport, LI_NA), web_meal.reference)
    assert any("李娜" in body and web_meal.reference in body for body in wang_phone.received())
    done_text = wang_phone.received()[-1]
    assert "李娜" in done_text and "做完了回1" in done_text and "没有回2" in done_text

    # 6. She confirms by text "1"; the reply asks for the faces as 1/2/3; "1" means good.
    reply = wang_phone.text("1")
    assert "谢谢您的确认" in reply and "满意回1" in reply
    assert requests_of(session, wang.id)[0].status == "confirmed"
    reply = wang_phone.text("1")
    assert "记下了" in reply
    rated = requests_of(session, wang.id)[0]
    assert rated.rating == 3 and rated.rated_at is not None
    # her own page shows it confirmed and rated, and offers no more faces
    own = elder_web.get(f"/requests/{web_meal.reference}").get_data(as_text=True)
    assert "已确认" in own and "😊" in own and 'name="rating"' not in own
    # A later "1" is not taken as a second rating (she gets the help text instead).
    assert "记下了" not in (wang_phone.text("1") or "")
    assert requests_of(session, wang.id)[0].rating == 3

    # 7. The worker 张伟 sees all of it.
    worker = browser_for(app, transport, ZHANG, DEMO_PASSWORD)
    listing = worker.get("/worker/requests/").get_data(as_text=True)
    for req in requests_of(session, wang.id):
        assert req.reference in listing
    assert "本人不需要" in listing and "已确认" in listing and "等志愿者接单" in listing
    timeline = worker.get(f"/requests/{web_meal.reference}").get_data(as_text=True)
    for step in ("已下单", "志愿者接单", "志愿者开始服务", "志愿者服务完成", "老人已确认", "已评价"):
        assert step in timeline, step
    assert "李娜" in timeline and "😊" in timeline
    assert timeline.index("已下单") < timeline.index("志愿者接单") < timeline.index("老人已确认")
    refused = worker.get(f"/requests/{cleaning.reference}").get_data(as_text=True)
    assert "本人不需要" in refused and "status-refused" in refused
    # The refusal and the confirmation are recorded with the channel they came by.
    kinds = {(e.kind, e.channel) for e in session.scalars(select(RequestEvent))}
    assert {("refused", "sms"), ("confirmed", "sms"), ("rated", "sms")} <= kinds


def test_refusal_by_key_press_confirmation_by_voice_and_faces_on_the_web(app, session, transport, demo):
    wang, li_na = demo[WANG], demo[LI_NA]
    wang_phone = Phone(app, transport, WANG)
    son_phone = Phone(app, transport, SON)
    son_web = browser_for(app, transport, SON)
    order_cleaning_for(son_web, wang.id)
    cleaning = requests_of(session, wang.id)[0]

    # She calls: the portal names the order and she presses 2.
    said, _xml = wang_phone.call()
    assert said.startswith("您好，这里是邻里") and "王磊给您订了助洁" in said and "不要请按2" in said
    said, xml = wang_phone.press("2")
    assert "取消" in said and "王磊" in said and "<Hangup" in xml
    assert requests_of(session, wang.id)[0].status == "refused"
    assert any("王秀英不需要助洁" in body for body in son_phone.received())

    # Another order from her son, which she keeps; 李娜 does it; she confirms by key 1.
    order_cleaning_for(son_web, wang.id)
    kept = requests_of(session, wang.id)[1]
    said, _xml = wang_phone.call()
    assert "按2" in said
    said, xml = wang_phone.press("1")  # keep it: the call goes on to the request menu
    assert "<Gather" in xml and requests_of(session, wang.id)[1].status == "open"
    volunteer_does(browser_for(app, transport, LI_NA), kept.reference)
    assert any("李娜已为王秀英做完助洁" in body for body in son_phone.received())
    said, _xml = wang_phone.call()
    assert "李娜" in said and "按1" in said
    said, xml = wang_phone.press("1")
    assert "谢谢您的确认" in said and "满意请按1" in said and "<Gather" in xml
    assert requests_of(session, wang.id)[1].status == "confirmed"
    assert any("王秀英确认助洁" in body for body in son_phone.received())

    # She hangs up without rating; later she rates on the web with the three faces.
    elder_web = browser_for(app, transport, WANG)
    page = elder_web.get(f"/requests/{kept.reference}").get_data(as_text=True)
    assert "您觉得怎么样" in page and page.count('name="rating"') == 3
    response = elder_web.post(f"/requests/{kept.reference}/confirm", {"rating": "2"},
                              page=f"/requests/{kept.reference}")
    assert response.status_code == 303
    page = elder_web.get(f"/requests/{kept.reference}").get_data(as_text=True)
    assert "😐" in page and 'name="rating"' not in page
    assert requests_of(session, wang.id)[1].rating == 2
    # A second rating is refused with a clear answer and changes nothing.
    page = elder_web.post(f"/requests/{kept.reference}/confirm", {"rating": "3"}, page=f"/requests/{kept.reference}",
                          follow_redirects=True).get_data(as_text=True)
    assert "已经评价过了" in page and requests_of(session, wang.id)[1].rating == 2

    # The worker sees the refused order and the confirmed one apart.
    worker = browser_for(app, transport, ZHANG, DEMO_PASSWORD)
    listing = worker.get("/worker/requests/").get_data(as_text=True)
    assert "status-refused" in listing and "status-confirmed" in listing
    timeline = worker.get(f"/requests/{cleaning.reference}").get_data(as_text=True)
    assert "本人不需要" in timeline and "王秀英" in timeline
    kinds = {(e.kind, e.channel) for e in session.scalars(select(RequestEvent))}
    assert {("refused", "voice"), ("confirmed", "voice"), ("rated", "web")} <= kinds


def test_rating_by_key_after_confirming_on_a_call(app, session, transport, demo):
    wang = demo[WANG]
    elder_web = browser_for(app, transport, WANG)
    order_meal_on_the_web(elder_web)
    meal = requests_of(session, wang.id)[0]
    volunteer_does(browser_for(app, transport, LI_NA), meal.reference)
    wang_phone = Phone(app, transport, WANG)
    wang_phone.call()
    wang_phone.press("1")
    said, xml = wang_phone.press("3")  # not good
    assert "记下了" in said and "<Hangup" in xml
    assert requests_of(session, wang.id)[0].rating == 1
    assert "☹️" in elder_web.get(f"/requests/{meal.reference}").get_data(as_text=True)


def test_refused_and_expired_requests_read_differently(app, session, transport, demo):
    from jobs.registry import load_jobs

    wang = demo[WANG]
    son_web = browser_for(app, transport, SON)
    order_cleaning_for(son_web, wang.id)
    order_cleaning_for(son_web, wang.id)
    first, second = requests_of(session, wang.id)
    assert "取消" in Phone(app, transport, WANG).text("2")  # refuses the latest order
    with app.app_context():
        later = second.scheduled_at + timedelta(hours=3)
        assert load_jobs()["requests.expire"].fn(session, later)["expired"] == 1
        session.commit()
    statuses = {r.reference: r.status for r in requests_of(session, wang.id)}
    assert statuses == {first.reference: "expired", second.reference: "refused"}
    worker = browser_for(app, transport, ZHANG, DEMO_PASSWORD)
    listing = worker.get("/worker/requests/").get_data(as_text=True)
    assert "暂时没约到志愿者" in listing and "本人不需要" in listing
    expired = worker.get(f"/requests/{first.reference}").get_data(as_text=True)
    refused = worker.get(f"/requests/{second.reference}").get_data(as_text=True)
    assert "已关闭：暂时没约到志愿者" in expired and "本人不需要" not in expired
    assert "本人不需要" in refused and "暂时没约到志愿者" not in refused


def test_a_step_swaps_in_place_with_htmx_and_redirects_without(app, session, transport, demo):
    elder_web = browser_for(app, transport, WANG)
    assert elder_web.get("/requests/new?service=meal").status_code == 303
    page = elder_web.get("/requests/step").get_data(as_text=True)
    from tests.conftest import csrf_from

    token = csrf_from(page)
    partial = elder_web.client.post("/requests/step", data={"answer": "lunch", "csrf_token": token},
                                    headers={"HX-Request": "true", "HX-Target": "conversation"})
    body = partial.get_data(as_text=True)
    assert partial.status_code == 200 and "<html" not in body and "<footer" not in body
    assert body.lstrip().startswith('<div id="conversation">')  # what hx-select / outerHTML swap expect
    assert partial.headers["HX-Push-Url"].endswith("/requests/step")
    assert "哪天" in body and 'name="answer"' in body
    # without htmx the same POST answers 303 to the next page, which is a whole page
    response = elder_web.client.post("/requests/step", data={"answer": "tomorrow", "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"].endswith("/requests/step")
    whole = elder_web.get(response.headers["Location"]).get_data(as_text=True)
    assert "<html" in whole and "要几天" in whole
    # a wrong answer by htmx gets the partial with the error, nothing recorded
    bad = elder_web.client.post("/requests/step", data={"answer": "nonsense", "csrf_token": token},
                                headers={"HX-Request": "true", "HX-Target": "conversation"})
    assert bad.status_code == 200 and "<html" not in bad.get_data(as_text=True)  # htmx 2 swaps no 4xx
    assert "请选一个" in bad.get_data(as_text=True) or 'role="alert"' in bad.get_data(as_text=True)


def test_a_family_order_at_night_leaves_the_whole_refusal_window_after_she_is_told(app, session):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from portal.models import ElderProfile, OutboundMessage
    from portal.services import requests as service_requests

    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    wang = session.scalar(select(Person).where(Person.phone == WANG))
    son = session.scalar(select(Person).where(Person.phone == SON))
    shanghai = ZoneInfo("Asia/Shanghai")
    night = datetime(2026, 11, 22, 22, 30, tzinfo=shanghai).astimezone(ZoneInfo("UTC"))
    with app.test_request_context():
        req = service_requests.create_request(session, session.get(ElderProfile, wang.id), son, "web", "cleaning",
                                              {"half_day": "morning"}, night + timedelta(days=1), night)
        session.commit()
    notice = session.scalar(select(OutboundMessage).where(OutboundMessage.to_phone == WANG))
    told = notice.next_attempt_at.astimezone(shanghai)
    assert (told.hour, told.minute) == (8, 0)  # held over the quiet hours
    deadline = req.refusal_deadline.astimezone(shanghai)
    assert (deadline.day, deadline.hour) == (23, 10) and "11月23日（周一） 10:00" in notice.body
    # just before 10:00 she can still refuse
    assert service_requests.refusable(req, datetime(2026, 11, 23, 9, 59, tzinfo=shanghai))


def test_answering_1_to_several_questions_in_a_row_is_not_a_loop(app, session, transport, demo, monkeypatch):
    # "1" for the day is today: at 08:00 there is still time for lunch (the lead time of the policy)
    from portal.clock import local_tz

    morning = datetime.now(local_tz()).replace(hour=8, minute=0, second=0, microsecond=0).astimezone(ZoneInfo("UTC"))
    monkeypatch.setattr("portal.channels.sms_webhook.utcnow", lambda: morning)
    wang_phone = Phone(app, transport, WANG)
    assert "1 午饭" in wang_phone.text("订餐")
    for answer in ("1", "1", "1", "1"):  # lunch, today, just that day, nothing special
        assert wang_phone.text(answer)
    assert "编号" in wang_phone.text("1")
    assert requests_of(session, demo[WANG].id)[0].details == {"meals": "lunch", "days": "1", "diet": "none"}
