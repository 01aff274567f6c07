"""A STOP never silences an emergency: the alert is queued and sent whatever the opt-out or the hour."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from portal.channels import outbox as sender
from portal.clock import local_tz
from portal.models import ContactStatus, OutboundMessage, Pairing
from portal.services import outbox
from portal.services.outbox import EMERGENCY_KIND, enqueue
from tests.channels.helpers import TOKEN, text
from tests.factories import make_person


@pytest.fixture()
def app_config(app_config):
    app_config["TWILIO_AUTH_TOKEN"] = TOKEN
    return app_config


def _stopped(session, phone: str) -> bool:
    session.expire_all()
    status = session.get(ContactStatus, phone)
    return status is not None and status.status == "stopped"


def test_worker_and_son_who_texted_stop_still_get_the_elders_emergency_alert(client, session, world, transport):
    elder = world.elder_a
    son = make_person(session, "甲儿子")
    elder.emergency_contacts = [{"name": son.name, "phone": son.phone, "relation": "儿子"}]
    session.add(Pairing(volunteer_id=world.volunteer_a.person_id, elder_id=elder.person_id))
    session.commit()
    worker_phone, son_phone = world.worker_a.phone, son.phone

    for phone in (worker_phone, son_phone):
        assert text(client, phone, "退订").status_code == 200
        assert _stopped(session, phone)
        confirmation = transport.messages_to(phone)[-1]
        assert confirmation.kind == "opt_out_confirmation"
        assert "紧急求助提醒照常发送" in confirmation.body  # they are told emergencies still come

    assert text(client, elder.person.phone, "救命").status_code == 200

    for phone in (worker_phone, son_phone, world.volunteer_a.person.phone):
        alerts = [m for m in transport.messages_to(phone) if m.kind == EMERGENCY_KIND]
        assert {m.channel for m in alerts} == {"sms", "call"}, phone
        assert all("紧急" in m.body and elder.person.name in m.body for m in alerts)
    session.expire_all()
    rows = session.scalars(select(OutboundMessage).where(OutboundMessage.kind == EMERGENCY_KIND)).all()
    assert len(rows) == 6 and all(row.status == "sent" and row.urgent for row in rows)


def test_an_alert_queued_before_the_stop_still_leaves(app, session, world, transport):
    """The sender checks opt-out again at send time; that check never drops an emergency alert."""
    phone = world.worker_a.phone
    alert = enqueue(session, phone, "EMERGENCY", emergency=True)
    notice = enqueue(session, phone, "a plain notice")
    session.commit()
    outbox_ids = [alert.id, notice.id]
    from portal.services.inbox import set_contact_status

    set_contact_status(session, phone, "stopped", alert.created_at)
    session.commit()
    assert outbox.is_stopped(session, phone)
    assert enqueue(session, phone, "another notice") is None          # STOP filters ordinary texts …
    assert enqueue(session, phone, "EMERGENCY 2", emergency=True) is not None  # … never an emergency
    session.commit()

    sender.send_due(session, transport, ids=outbox_ids)
    session.expire_all()
    assert session.get(OutboundMessage, alert.id).status == "sent"
    assert session.get(OutboundMessage, notice.id).status == "opted_out"
    assert [m.body for m in transport.messages_to(phone)] == ["[Linli] EMERGENCY"]  # signed, like every text


def test_quiet_hours_never_hold_an_emergency_alert_to_an_elder(app, session, world, transport):
    night = datetime(2026, 11, 10, 23, 30, tzinfo=local_tz())
    elder_phone = world.elder_b.person.phone  # an elder who is someone's emergency contact
    held = enqueue(session, elder_phone, "a notice", now=night)
    alert = enqueue(session, elder_phone, "EMERGENCY", person=world.elder_b.person, emergency=True, now=night)
    session.commit()
    assert held.quiet_hours and held.next_attempt_at > night
    assert alert.kind == EMERGENCY_KIND and not alert.quiet_hours and alert.next_attempt_at == night
    assert sender.send_due(session, transport, now=night) == 1
    assert [m.body for m in transport.messages_to(elder_phone)] == ["[Linli] EMERGENCY"]  # signed, like every text


def test_emergency_alerts_are_sent_before_a_backlog(app, session, world, transport):
    for index in range(3):
        enqueue(session, world.worker_b.phone, f"backlog {index}", urgent=True)
    enqueue(session, world.worker_a.phone, "EMERGENCY", emergency=True)
    session.commit()
    assert sender.send_due(session, transport, limit=1) == 1
    assert [m.body for m in transport.sent] == ["[Linli] EMERGENCY"]  # signed, like every text


def test_the_worker_sees_an_emergency_contact_who_sent_stop(client, session, world, browser):
    from tests.factories import PASSWORD

    elder = world.elder_a
    son, daughter = make_person(session, "甲儿子"), make_person(session, "甲女儿")
    elder.emergency_contacts = [{"name": son.name, "phone": son.phone, "relation": "儿子"},
                                {"name": daughter.name, "phone": daughter.phone, "relation": "女儿"}]
    session.commit()
    assert text(client, son.phone, "STOP").status_code == 200

    browser.login(world.worker_a.phone, PASSWORD)
    page = browser.get(f"/worker/elders/{elder.person_id}").get_data(as_text=True)
    contacts = page.split("紧急联系人", 1)[1].split("</dd>", 1)[0]
    assert contacts.count("该联系人已回复退订") == 1
    assert contacts.index(son.name) < contacts.index("该联系人已回复退订") < contacts.index(daughter.name)
