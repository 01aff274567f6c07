"""Door-code texts and the elder's yes/no by text."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.channels.inbound import dispatch_sms, handlers
from portal.models import FollowUp, Transfer, Visit
from tests.timebank.helpers import T0


def test_handlers_are_registered_at_their_priorities(app):
    names = {name: priority for priority, name, _ in handlers()}
    assert names["visit-door-code"] == 20 and names["last-question"] == 30
    # one handler answers every short reply: the question asked last decides what "1" means
    assert [name for priority, name, _ in handlers() if priority == 30] == ["last-question"]


def test_english_in_out_and_a_no_from_the_elder(app, world, session):
    volunteer = world.volunteer_a.person
    volunteer.locale = "en"
    code = world.elder_a.door_code
    with app.test_request_context("/twilio/sms", method="POST"):
        assert "Checked in" in dispatch_sms(session, volunteer, f"in {code}", T0)
        assert "30 minutes" in dispatch_sms(session, volunteer, f"OUT {code}", T0 + timedelta(minutes=30))
        reply = dispatch_sms(session, world.elder_a.person, "不是", T0 + timedelta(hours=1))
    assert "社区工作人员" in reply
    assert session.scalar(select(Visit.status)) == "disputed"
    assert session.scalar(select(FollowUp.reason)) == "disputed"
    assert session.scalar(select(func.count(Transfer.id))) == 0


def test_wrong_code_by_text_is_explained_in_the_senders_language(app, world, session):
    with app.test_request_context("/twilio/sms", method="POST"):
        reply = dispatch_sms(session, world.volunteer_a.person, "到 000001", T0)
        assert reply == "签到码不对，请看一下门上的签到卡。"
        assert dispatch_sms(session, world.volunteer_a.person, f"走 {world.elder_a.door_code}", T0) \
            == "您还没有用这个签到码签到。"
        # A "1" from an elder nobody asked anything confirms nothing: the help text answers.
        assert "没看懂" in dispatch_sms(session, world.elder_b.person, "1", T0)
    assert session.scalar(select(func.count(Visit.id))) == 0
