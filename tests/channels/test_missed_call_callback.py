"""A registered elder rings, is rejected (free for her), and is called back within a minute with
the voice menu; at most once per 10 minutes per number; strangers are not called back."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.channels import outbox
from portal.models import OutboundMessage
from tests.channels.helpers import PUBLIC_URL, TOKEN, post_signed


@pytest.fixture()
def app_config(app_config):
    app_config["TWILIO_AUTH_TOKEN"] = TOKEN
    return app_config


def ring(client, phone: str) -> str:
    response = post_signed(client, "/twilio/voice/ring", {"CallSid": "CA1", "From": phone, "To": "+8612349"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def callbacks(session) -> list[OutboundMessage]:
    session.expire_all()
    return session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "callback")).all()


def test_a_registered_elder_is_rejected_and_called_back_with_the_menu(client, session, world, transport):
    elder = world.elder_a.person
    assert "<Reject" in ring(client, elder.phone)
    [call] = callbacks(session)
    assert call.channel == "call" and call.to_phone == elder.phone and call.body == f"{PUBLIC_URL}/twilio/voice"
    assert call.priority < 2 and not call.quiet_hours  # the urgent lane: she has just called
    assert call.next_attempt_at - call.created_at < timedelta(minutes=1)
    assert [m.to for m in transport.sent if m.channel == "call"] == [elder.phone]  # the sender placed it

    # Twilio fetches the menu for the call it placed: the elder is in To, so she gets her menu (the
    # greeting names Linli, not her: a name the voice may misread is not the first thing she hears)
    menu = post_signed(client, "/twilio/voice", {"CallSid": "CA2", "From": "+8610690000000", "To": elder.phone,
                                                 "Direction": "outbound-api"}).get_data(as_text=True)
    assert "您好，这里是邻里。" in menu and "<Gather" in menu and "助餐（送饭）请按1" in menu


def test_at_most_one_callback_per_ten_minutes_per_number(client, session, world):
    elder = world.elder_a.person
    ring(client, elder.phone)
    assert "<Reject" in ring(client, elder.phone)  # still free for her
    assert len(callbacks(session)) == 1
    first = callbacks(session)[0]
    first.created_at -= timedelta(minutes=11)
    session.commit()
    ring(client, elder.phone)
    assert len(callbacks(session)) == 2


def test_strangers_are_not_called_back(client, session, world):
    answer = ring(client, "+8613999999999")
    assert "<Reject" not in answer and "/twilio/voice" in answer
    assert callbacks(session) == []
    assert outbox.send_due(session, object()) == 0
