"""The issue's story on the demo data: 李娜 visits 王秀英 with the door code, 王秀英 confirms by SMS,
李娜's balance rises by exactly the minutes, she gives 60 to her mother, the ledger check passes."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, text

from portal.channels.inbound import dispatch_sms
from portal.models import ElderProfile, FamilyLink, Person, Visit
from portal.services import ledger
from tests.pages import elements, text_of
from tests.timebank.helpers import T0


def test_li_na_visits_wang_xiuying_and_gives_her_mother_an_hour(app, session, browser, transport):
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    li_na = session.scalar(select(Person).where(Person.phone == "+8613800000003"))
    wang = session.scalar(select(ElderProfile).join(Person).where(Person.phone == "+8613800000001"))
    mother = session.scalar(select(FamilyLink).where(FamilyLink.family_id == li_na.id,
                                                     FamilyLink.status == "approved")).elder
    assert session.get(ElderProfile, mother.id).community_id != wang.community_id
    before = ledger.balance_of(session, li_na.id)

    with app.test_request_context("/twilio/sms", method="POST"):  # 李娜 texts the door code on arrival and on leaving, 85 minutes later
        reply_in = dispatch_sms(session, li_na, f"到 {wang.door_code}", T0)
        reply_out = dispatch_sms(session, li_na, f"走 {wang.door_code}", T0 + timedelta(minutes=85))
        session.commit()
    assert "王秀英" in reply_in and "85" in reply_out
    asked = session.execute(text("SELECT to_phone FROM outbound_messages WHERE kind = 'visit_confirm'")).all()
    assert [row.to_phone for row in asked] == [wang.person.phone]  # one question, to her

    with app.test_request_context("/twilio/sms", method="POST"):  # 王秀英 replies 1
        reply = dispatch_sms(session, wang.person, "1", T0 + timedelta(hours=3))
        session.commit()
    assert "李娜" in reply
    visit = session.scalar(select(Visit).where(Visit.volunteer_id == li_na.id))
    assert visit.status == "verified" and visit.method == "sms" and visit.counts_for_compliance
    assert ledger.balance_of(session, li_na.id) == before + 85

    browser.login(li_na.phone)  # she gives 60 minutes to her mother on the web, with the check page
    check_page = browser.post("/time-bank/gift", {"recipient": str(mother.id), "amount": "60"})
    html = check_page.get_data(as_text=True)
    assert check_page.status_code == 200 and mother.name in html
    assert text_of(html, "h1").startswith("把 60 分钟转给")
    assert f"转出后您的余额：{before + 85 - 60} 分钟。" in [e["text"] for e in elements(html, "p")]
    done = browser.post("/time-bank/gift/confirm", {"recipient": str(mother.id), "amount": "60"},
                        page="/time-bank/gift")
    assert done.status_code == 303
    session.expire_all()
    assert ledger.balance_of(session, li_na.id) == before + 25
    assert ledger.balance_of(session, mother.id) == 60
    home = browser.get("/time-bank/").get_data(as_text=True)
    assert "王*" in home and "+85" in home and "-60" in home

    result = app.test_cli_runner().invoke(args=["ledger", "check"])
    assert result.exit_code == 0, result.output
    with app.extensions["linli"].engine.begin() as conn:
        conn.execute(text("UPDATE ledger_entries SET amount = amount + 1 WHERE id = 1"))
    assert app.test_cli_runner().invoke(args=["ledger", "check"]).exit_code == 1
