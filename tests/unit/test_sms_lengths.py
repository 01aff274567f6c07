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
    "reason": "请选两个月以内的日子", "max": "100", "current": "陪同出门", "new": "打扫卫生", "label": "午饭晚饭都要", "key": "1",
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


# --- texts built from several parts are measured as ONE text ------------------------------

def _plain(app, message_id: str, locale: str = "zh_Hans") -> str:
    """A message rendered with the long values, unsigned (it is the first part of a longer text)."""
    with app.test_request_context(), force_locale(locale):
        values = {key: value for key, value in VALUES.items() if f"%({key})s" in message_id}
        values.update({key: value for key, value in NUMBERS.items() if f"%({key})d" in message_id})
        return gettext(message_id, **values)


def _ids_in(*paths: Path) -> list[str]:
    return [message for path in paths for _l, _f, message, _c, _x in _extract(path) if isinstance(message, str)]


# What can come before the waiting question in the same text, and on which steps. Refusals of an
# answer and "not understood" fit one segment with the question; the short help and an answer to
# another question Linli asked (rare: a family order answered half-way through one's own order) may
# take two — the documented limit (docs/messages-and-calls.md, "How long a text may be").
TIME_STEPS = ("meals", "date", "half_day", "slot", "time")
REFUSALS = {  # the step → why an answer to it can be refused
    "date": ("That date does not exist. Please check it.",
             "That day has already passed. Please choose today or a later day.",
             "Please choose a day within the next two months."),
    "time": ("Please choose a time between 6:00 and 20:00.",),
    "diet": ("This can have at most %(max)s characters.", "This contains characters that cannot be used."),
    "destination": ("This can have at most %(max)s characters.", "This contains characters that cannot be used."),
}
TOO_LATE = "That time has passed or is too soon for a volunteer to come. Please choose a later time."
NOT_UNDERSTOOD = "Sorry, we did not understand that. For an emergency, reply 救命."
SHORT_HELP = "Reply with the number of your choice. For an emergency, reply 救命. Hotline %(hotline)s."
# sms_answers' replies that stand alone (an expired question, an emergency): never followed by a question
STANDING_ALONE = {"That question has expired, so your reply changed nothing. Please call %(hotline)s.",
                  "We are alerting your community worker and your family now. If you are in danger, call 120. "
                  "Community hotline: %(hotline)s",
                  "We are alerting your community worker and your family now. If you are in danger, call 120. "
                  "Sent by mistake? Reply 2 within %(minutes)d minutes. Hotline %(hotline)s"}


def answers_to_other_questions() -> list[str]:
    return sorted(set(_ids_in(ROOT / "portal" / "channels" / "sms_answers.py")) - STANDING_ALONE)


def leads_before(step: str) -> list[tuple[str, int]]:
    """(message id, the segment limit of the whole text) for everything that can precede `step`'s question."""
    from portal.conversation.engine import CHECK

    one = ONE_SEGMENT if step != CHECK else TWO_SEGMENTS
    leads = [(message, one) for message in REFUSALS.get(step, ())]
    leads += [(TOO_LATE, one)] * (step in TIME_STEPS) + [(NOT_UNDERSTOOD, one), (SHORT_HELP, TWO_SEGMENTS)]
    return leads + [(message, TWO_SEGMENTS) for message in answers_to_other_questions()]


def _states(person):
    from portal.conversation.engine import CHECK
    from portal.conversation.flows import STEPS
    from portal.models import ConversationState

    longest_check = {"service": "escort", "date": "2026-12-31", "time": "15:00",
                     "destination": "note:" + "县人民医院住院部", "return_trip": "yes"}
    for name in [*STEPS, CHECK]:
        yield ConversationState(person_id=person.id, channel="sms", flow="request", step=name,
                                data=longest_check if name == CHECK else {}, updated_at=EARLY, expires_at=EARLY)


EARLY = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)  # 06:00 in Shanghai: every day and time is still open


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
def test_every_message_followed_by_the_waiting_question_is_measured_as_one_text(app, world, locale):
    """A refusal, "not understood", the short help or an answer to another question, then the question
    asked again: one text, measured whole, with the long values — one segment (70) for a refusal and
    for "not understood", at most two (134) for the help, an answer to another question and the check."""
    from portal.channels.sms_conversation import composed

    person = world.elder_a.person
    person.locale = locale
    too_long = []
    for state in _states(person):
        for message_id, limit in leads_before(state.step):
            lead = _plain(app, message_id, locale)
            with app.test_request_context():
                whole = composed(lead, state, person, EARLY)
            assert whole.split("\n", 1)[0] == lead and len(whole) > len(lead) + 4  # the lead, then the question
            text = signed(whole)
            if len(text) > limit and locale == "zh_Hans":  # an English text is GSM-7: 160 a segment
                too_long.append((state.step, len(text), text))
    assert too_long == [], "\n".join(f"{step} {length} {text!r}" for step, length, text in too_long)


def test_the_composed_texts_are_found(app):
    """The leads are the real messages: each is in the code that can send it."""
    conversation = ROOT / "portal" / "conversation"
    raised = set(_ids_in(conversation / "engine.py", conversation / "slots.py",
                         ROOT / "portal" / "services" / "people.py", ROOT / "portal" / "channels" / "sms_keywords.py"))
    refusals = {message for messages in REFUSALS.values() for message in messages}
    assert refusals | {TOO_LATE, NOT_UNDERSTOOD, SHORT_HELP} <= raised
    assert "All right, %(service)s (reference %(ref)s) is cancelled. We have told %(family)s." in \
        answers_to_other_questions()
    assert STANDING_ALONE <= set(_ids_in(ROOT / "portal" / "channels" / "sms_answers.py",
                                            ROOT / "portal" / "channels" / "sms_conversation.py"))


def test_not_understood_without_an_open_question_and_the_opt_out_replies_are_one_segment(app, world, session):
    from portal.channels.sms_keywords import fallback_text, opt_out_reply

    person = world.elder_a.person
    with app.test_request_context():
        assert len(signed(fallback_text(session, person))) <= ONE_SEGMENT
        dropped = _plain(app, "The order you were placing was not placed.")
        for confirmation in ("Linli: texts to this phone are stopped, visit notices too; emergency alerts come by "
                             "phone call. To get texts again, send START. Hotline %(hotline)s.",
                             "Linli: you will get no more texts from us, except emergency alerts: those always "
                             "come. Send 订阅 or START to get the others again. Hotline %(hotline)s."):
            text = signed(opt_out_reply("zh_Hans", _plain(app, confirmation), dropped))
            assert len(text) <= ONE_SEGMENT, (len(text), text)


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
def test_the_switch_question_fits_one_segment_for_every_pair_of_real_service_names(app, locale):
    """Asked during any question, the check included (issue 11, point 14): the labels as texted."""
    from portal.conversation.flows import SERVICE_OPTIONS

    message_id = "You are ordering %(current)s. Change to %(new)s instead? Reply 1 to change, 2 to carry on."
    with app.test_request_context(), force_locale(locale):
        for current in SERVICE_OPTIONS:
            for new in SERVICE_OPTIONS:
                if current is not new:
                    text = signed(gettext(message_id, current=str(current.label), new=str(new.label)))
                    limit = ONE_SEGMENT if locale == "zh_Hans" else 160  # GSM-7 for English
                    assert len(text) <= limit, (len(text), text)
