"""Every text Linli can send fits one SMS segment (70 characters of Chinese, the 【邻里】 signature
included) when rendered with long real names, references and dates — except the check summary,
which may take two. Texts are found by extracting every message id that services and the SMS
channel hand to the outbox or to a reply; the voice prompts (spoken, never texted) are left out.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file

from portal.i18n import force_locale, gettext
from portal.services.sms_text import signed

ROOT = Path(__file__).resolve().parents[2]
ONE_SEGMENT = 70
TWO_SEGMENTS = 134
SOURCES = sorted(
    [*(ROOT / "portal" / "services").rglob("*.py"), *(ROOT / "portal" / "channels").glob("sms_*.py"),
     ROOT / "portal" / "channels" / "visits_sms.py", ROOT / "portal" / "conversation" / "understand.py"]
)
KEYWORDS = {"msg": None, "_l": None, "gettext": None, "translate_for": (2,)}
# Long but real: a four-character name, a six-digit reference, the longest date and time text.
VALUES = {
    "name": "欧阳秀英", "elder": "欧阳秀英", "volunteer": "司马晓东", "family": "欧阳建国", "worker": "诸葛丽华",
    "ref": "123456", "hotline": "0817-12349", "phone": "13812345678", "code": "123456", "service": "陪同出门",
    "when": "12月31日（周四）下午3:30", "deadline": "12月31日（周四）下午3:30", "minutes": "180", "age": "60",
    "reason": "请选两个月以内的日子", "current": "陪同出门", "new": "打扫卫生", "label": "午饭晚饭都要", "key": "1",
    "answer": "12月31日", "count": "12", "days": "30", "url": "", "community": "幸福里社区", "period": "2026年12月",
    "names": "欧阳秀英、司马晓东", "doing": "给您打扫卫生", "day": "12月31日（周四）", "date": "12月31日（周四）",
    "who": "司马晓东", "outcome": "已上门看过",
}
NUMBERS = {"days": 30, "count": 12, "minutes": 180}  # placeholders written as %(key)d


def sms_message_ids() -> list[str]:
    found = []
    for path in SOURCES:
        for _line, _fn, message, _comments, _context in _extract(path):
            if isinstance(message, str) and message not in found:
                found.append(message)
    return found


def _extract(path: Path):
    for lineno, message, comments, context in extract_from_file("python", str(path), keywords=KEYWORDS):
        yield lineno, None, message, comments, context


def render(app, message_id: str, locale: str = "zh_Hans") -> str:
    with app.test_request_context(), force_locale(locale):
        values = {key: value for key, value in VALUES.items() if f"%({key})s" in message_id}
        values.update({key: value for key, value in NUMBERS.items() if f"%({key})d" in message_id})
        return signed(gettext(message_id, **values))


def test_the_texts_are_found(app):
    ids = sms_message_ids()
    assert len(ids) > 40
    assert "Linli: you will get no more texts from us, except emergency alerts: those always come. " \
           "Send 订阅 or START to get the others again. Hotline %(hotline)s." in ids


@pytest.mark.parametrize("message_id", sms_message_ids())
def test_every_text_fits_one_segment(app, message_id):
    text = render(app, message_id)
    assert len(text) <= ONE_SEGMENT, (len(text), text)


def test_the_conversation_questions_and_the_check_summary(app, world, session):
    from portal.channels.sms_conversation import render as render_step
    from portal.conversation.engine import CHECK
    from portal.conversation.flows import STEPS
    from portal.models import ConversationState

    person = world.elder_a.person
    for name in STEPS:
        state = ConversationState(person_id=person.id, channel="sms", flow="request", step=name, data={},
                                  updated_at=datetime.now(UTC), expires_at=datetime.now(UTC))
        with app.test_request_context():
            text = signed(render_step(state, person))
        assert len(text) <= ONE_SEGMENT, (name, len(text), text)
    longest = {"service": "escort", "date": "2026-12-31", "time": "15:00", "destination": "note:" + "县人民医院住院部",
               "return_trip": "yes"}
    state = ConversationState(person_id=person.id, channel="sms", flow="request", step=CHECK, data=longest,
                              updated_at=datetime.now(UTC), expires_at=datetime.now(UTC))
    with app.test_request_context():
        summary = signed(render_step(state, person))
    assert len(summary) <= TWO_SEGMENTS, (len(summary), summary)
    assert summary.startswith("【邻里】") and "2026-12-31" not in summary


HOTLINE_WITHOUT_NUMBER = re.compile(r"(热线|hotline)(?![^。.！!？?]*\d{5})", re.I)


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
def test_no_text_mentions_the_hotline_without_its_number(app, locale):
    """Every text, rendered: 热线 / hotline is followed by its digits in the same sentence (the elder's
    community hotline, area.hotline, or the national 12349 when her community has none)."""
    bare = [text for text in (render(app, m, locale) for m in sms_message_ids()) if HOTLINE_WITHOUT_NUMBER.search(text)]
    assert bare == []
