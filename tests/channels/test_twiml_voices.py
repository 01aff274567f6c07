"""Every <Say> Linli emits names a voice and the language that voice speaks, and every <Gather> that
listens for speech does so in a language Twilio's table has: on a real account a call is never silent."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlencode

import pytest

from portal.channels import twiml
from portal.channels.transport import TwilioTransport
from portal.models import Visit
from tests.channels.fake_twilio import FakeTwilio
from tests.channels.helpers import TOKEN, post_signed

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def app_config(app_config):
    app_config["TWILIO_AUTH_TOKEN"] = TOKEN
    return app_config


@pytest.fixture()
def emitted(app):
    """Every TwiML document the app answers with while the test runs (the app is shared between
    tests, so this listens to its request_finished signal rather than adding an after_request)."""
    from flask import request_finished

    documents: list[str] = []

    def keep(_sender, response, **_extra):
        body = response.get_data(as_text=True) if not response.direct_passthrough else ""
        if body.startswith("<?xml") and "<Response" in body:
            documents.append(body)

    request_finished.connect(keep, app)
    yield documents
    request_finished.disconnect(keep, app)


def check_voices(document: str) -> tuple[int, int]:
    """Assert the pairs in one TwiML document; returns how many <Say> and speech <Gather> it had."""
    root = ET.fromstring(document)
    says = list(root.iter("Say"))
    for say in says:
        voice, language = say.get("voice"), say.get("language")
        assert voice in twiml.VOICE_LANGUAGES, f"<Say> without a known voice: {ET.tostring(say)!r}"
        assert twiml.VOICE_LANGUAGES[voice] == language, f"{voice} does not speak {language}"
    gathers = [g for g in root.iter("Gather") if "speech" in (g.get("input") or "")]
    for gather in gathers:
        assert gather.get("language") in twiml.SPEECH_LANGUAGES.values(), ET.tostring(gather)
    return len(says), len(gathers)


def call(client, path: str, form: dict, query: dict | None = None):
    url = path + ("?" + urlencode(query) if query else "")
    response = post_signed(client, url, form)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_every_twiml_linli_emits_pairs_voice_and_language(app, client, session, world, emitted):
    elder = world.elder_a.person
    english = world.elder_b.person
    english.locale = "en"
    session.commit()
    # the request conversation by key, by speech, silence, a person (0) and an emergency (9)
    for number, (person, answers) in enumerate([
        (elder, ["1", "1", "2", "2", "2", "1"]),
        (english, ["2", "1", "2", "1"]),
        (elder, ["0"]),
        (elder, ["9"]),
    ]):
        form = {"CallSid": f"CA{number:032d}", "From": person.phone, "To": "+8612349"}
        call(client, "/twilio/voice", form)
        for turn, digit in enumerate(answers, start=1):
            call(client, "/twilio/voice/answer", {**form, "Digits": digit}, {"kind": "flow", "t": turn})
    form = {"CallSid": "CA" + "9" * 32, "From": elder.phone, "To": "+8612349"}
    call(client, "/twilio/voice", form)
    call(client, "/twilio/voice/answer", {**form, "SpeechResult": "我想订餐", "Confidence": "0.4"},
         {"kind": "flow", "t": 1})
    call(client, "/twilio/voice/answer", form, {"kind": "flow", "t": 2, "silent": 1})
    # a stranger, and the visit-confirmation call
    call(client, "/twilio/voice", {"CallSid": "CA" + "8" * 32, "From": "+8613999999999", "To": "+8612349"})
    visit = session.query(Visit).first()
    if visit is not None:
        call(client, f"/twilio/voice/visit/{visit.id}", {"CallSid": "CA7", "From": elder.phone})
    call(client, "/twilio/voice/visit/999999", {"CallSid": "CA6", "From": elder.phone})

    assert len(emitted) >= 15
    says = gathers = 0
    for document in emitted:
        counted = check_voices(document)
        says, gathers = says + counted[0], gathers + counted[1]
    assert says >= 15 and gathers >= 5
    english_says = [d for d in emitted if 'voice="Polly.Joanna"' in d]
    assert english_says and all('language="en-US"' in d for d in english_says)


def test_a_call_placed_with_spoken_text_carries_the_voice(session, world):
    """A call whose TwiML Linli hands to Twilio directly (an emergency call's message)."""
    with FakeTwilio() as fake:
        transport = TwilioTransport("AC" + "0" * 32, TOKEN, "+8610690000000", None, api_base=fake.url)
        transport.place_call(world.worker_a.phone, "紧急求助：甲老人需要帮助", kind="emergency")
        transport.place_call(world.worker_a.phone, "Emergency: help needed", kind="emergency", locale="en")
    documents = [created["form"]["Twiml"] for created in fake.created]
    assert [check_voices(document) for document in documents] == [(1, 0), (1, 0)]
    pairs = [(say.get("voice"), say.get("language")) for d in documents for say in ET.fromstring(d).iter("Say")]
    assert pairs == [("Polly.Zhiyu", "cmn-CN"), ("Polly.Joanna", "en-US")]


def test_a_voice_setting_twilio_cannot_pair_is_refused(app):
    from portal.channels.twiml import VoiceConfigError, configure_voices

    with pytest.raises(VoiceConfigError):
        configure_voices({"LINLI_TTS_VOICE_ZH_HANS": "man"})
    with pytest.raises(VoiceConfigError):
        configure_voices({"LINLI_TTS_VOICE_ZH_HANS": "Polly.Joanna"})  # speaks no Mandarin
    configure_voices({"LINLI_TTS_VOICE_ZH_HANS": "Google.cmn-CN-Wavenet-A"})
    assert twiml.voice_for("zh_Hans") == ("Google.cmn-CN-Wavenet-A", "cmn-CN")
    configure_voices({})
    assert twiml.voice_for(None) == ("Polly.Zhiyu", "cmn-CN")


def test_no_say_is_written_around_the_helper():
    """A bare `.say(` elsewhere would skip the voice; the helper is the one way to speak."""
    offenders = []
    for path in (ROOT / "portal").rglob("*.py"):
        if path.name == "twiml.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"\.say\(", line) and "twiml.say" not in line:
                offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert offenders == []
