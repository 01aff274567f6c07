"""The voice adapter of the conversation: TwiML <Say> + <Gather input="dtmf speech"> in Mandarin.

Keys are always the fallback for speech; speech heard with low confidence is confirmed by key.
0 at any time, or a third failed answer, reaches a person (<Dial> the community worker); 9 at any
time is 助急 (every menu says both); a 9 pressed in a menu asks "press 1 to confirm", and a second 9
or silence after it goes through, so a real emergency is never held behind a question. Every answer
is remembered by a digest of the call, URL and posted fields (`voice_turns`), so a Twilio retry of
the same step, or copies of it arriving at once, get the same TwiML and act once; each reply carries
a turn number in its action URL, so a person pressing the same key twice is two different turns.

Just over 400 lines: one webhook and its answers; the prompts it speaks are the part to move out.
"""
from __future__ import annotations

from flask import Blueprint, current_app, request, url_for
from sqlalchemy import func, select
from twilio.twiml.voice_response import VoiceResponse

from portal.channels import twiml, visit_record_voice
from portal.channels.twilio_hooks import twilio_webhook
from portal.channels.voice_turns import current_digest, remembered_turn
from portal.clock import local_tz
from portal.conversation import engine, keywords, slots, understand
from portal.conversation.engine import CHECK, FLOWS, NoMatch
from portal.conversation.flows import REQUEST_FLOW, SERVICE_OPTIONS
from portal.db import utcnow
from portal.i18n import force_locale, gettext, msg, supported_locale
from portal.models import ElderProfile, Person, VoiceTurn
from portal.request_scope import commit, db
from portal.services import DomainError, emergencies, questions
from portal.services import requests as service_requests
from portal.services import visits as visit_service
from portal.services.phones import normalize_phone
from portal.services.scope import community_workers

bp = Blueprint("voice", __name__, url_prefix="/twilio/voice")
LOW_CONFIDENCE = 0.6
MAX_FAILURES = 2        # re-prompts; the next failure offers a person
VOICE_RATINGS = {"1": 3, "2": 2, "3": 1}  # keys in the order said (good first) → the faces, 3 happy .. 1 unhappy
RESTART_KEY = "8"       # after a call takes over a half-finished text conversation: start again
# What a question's answer is stored as in `questions` for each kind of <Gather>.
QUESTION_KINDS = {"flow": "conversation", "refuse": "refuse", "confirm": "confirm_request", "rate": "rate"}


def _caller() -> Person | None:
    # A call Linli placed (a missed-call callback, 每日问安) has the elder in To, not From.
    outbound = request.form.get("Direction", "").startswith("outbound")
    try:
        phone = normalize_phone(request.form.get("To" if outbound else "From", ""),
                                current_app.config["LINLI_DEFAULT_REGION"])
    except DomainError:
        return None
    return db().scalar(select(Person).where(Person.phone == phone, Person.active))


def _locale(person: Person | None) -> str | None:
    return person.locale if person is not None else None


def _say(response, person, message: str, **variables) -> None:
    with force_locale(supported_locale(_locale(person))):
        twiml.say(response, gettext(message, **variables), _locale(person))


def _text(person, message) -> str:
    with force_locale(supported_locale(person.locale)):
        return str(message)


def _turn() -> int:
    """This call's turn number: the turns answered before this one, plus one."""
    return (db().scalar(select(func.count(VoiceTurn.id)).where(VoiceTurn.call_sid == request.form.get("CallSid", ""),
                                                               VoiceTurn.digest != (current_digest() or "")))
            or 0) + 1


def _gather(response: VoiceResponse, person: Person, kind: str, text: str, subject_id: int | None = None,
            **params) -> None:
    """Ask and wait for a key (or speech). Every such prompt (but the emergency confirmation itself)
    ends with 9 for an emergency and 0 for a person, and is recorded as the question this person was
    asked last."""
    action = url_for("voice.answer", kind=kind, t=_turn(), **params)
    gather = twiml.gather(_locale(person), input="dtmf speech", action=action, method="POST",
                          num_digits=1, timeout=6, speech_timeout="auto")
    if kind not in ("sos", "sos_off"):
        with force_locale(supported_locale(person.locale)):
            closing = gettext("For an emergency, press 9. To talk to a person, press 0.")
        text = f"{text} {closing}" if person.locale == "en" else f"{text}{closing}"
    twiml.say(gather, text, _locale(person))
    if kind in QUESTION_KINDS:
        questions.ask(db(), person.id, QUESTION_KINDS[kind], utcnow(), subject_id=subject_id, channel="call")
    response.append(gather)
    response.redirect(url_for("voice.answer", kind=kind, t=_turn(), silent=1, **params), method="POST")


def _step_text(person: Person, state) -> str:
    flow = FLOWS[state.flow]
    with force_locale(supported_locale(person.locale)):
        if state.step == CHECK:
            # a Chinese prompt is spoken with Chinese punctuation: "服务：送饭。", not "服务, 送饭."
            english = supported_locale(person.locale) == "en"
            line = "{label}, {value}." if english else "{label}：{value}。"
            parts = [gettext("You asked for:")]
            parts += [line.format(label=label, value=value) for _n, label, value in engine.summary(flow, state.data)]
            parts.append(gettext("To send it, press 1. To start again, press 2."))
            return (" " if english else "").join(parts)
        step = slots.offered(state, utcnow())  # only the times that can still be kept, keys in that order
        parts = [str(step.question)]
        parts += [gettext("For %(label)s, press %(key)s.", label=option.label, key=index)
                  for index, option in enumerate(step.options, start=1)]
        return " ".join(parts)


def _dial_person(response: VoiceResponse, person: Person | None, elder: ElderProfile | None) -> None:
    hotline = current_app.config["LINLI_HOTLINE"]
    target = None
    if elder is not None:
        workers = community_workers(db(), elder.community_id)
        target = workers[0].phone if workers else service_requests.hotline_for(db(), elder.community_id, hotline)
    _say(response, person, msg("Please hold, we are putting you through to a person."))
    response.dial(target or hotline)


def _emergency(response: VoiceResponse, person: Person, elder: ElderProfile) -> None:
    """The alarm is raised before anything is said; within the stand-down window she may press 2 (按错了)
    before she is put through to a person (a few seconds; silence or any other key puts her through)."""
    now = utcnow()
    alarm = emergencies.raise_alarm(db(), elder, "voice", now)
    if emergencies.ask_to_call_off(db(), alarm, now, "call"):
        with force_locale(supported_locale(person.locale)):
            text = " ".join([gettext("We are alerting your community worker and your family now. If you are in "
                                     "danger, hang up and call 120."),
                             gettext("If you pressed by mistake, press 2.")])
        _gather(response, person, "sos_off", text, req=alarm.id)
        return
    _say(response, person, msg("We are alerting your community worker and your family now. If you are in danger, "
                           "hang up and call 120."))
    _dial_person(response, person, elder)


def _call_off(response: VoiceResponse, person: Person, elder: ElderProfile, now) -> VoiceResponse:
    """2 (or 按错了) after the alarm on this call: stood down within the window, everyone alerted is told;
    after it, she is put through to a person, who can call it off."""
    from portal.models import ServiceRequest

    alarm = db().get(ServiceRequest, request.args.get("req", type=int) or 0)
    if alarm is None or alarm.elder_id != person.id or not emergencies.can_stand_down(
            emergencies.state_of(db(), alarm), now):
        _dial_person(response, person, elder)
        return response
    emergencies.stand_down(db(), alarm, person, now, channel="voice")
    questions.answered_if(db(), person.id, "emergency", alarm.id)
    _say(response, person, msg("All right, it is called off. We have told everyone we alerted."))
    return _continue(response, person, now)


def _elder_caller() -> tuple[Person | None, ElderProfile | None]:
    """The registered elder calling and their profile; (None, None) for anyone else."""
    person = _caller()
    elder = db().get(ElderProfile, person.id) if person is not None else None
    return (person, elder) if elder is not None else (None, None)


def _hotline_only(response: VoiceResponse) -> VoiceResponse:
    _say(response, None, msg("Hello, this is Linli. If this is an emergency, hang up and call 120 first. "
                             "Then call the community hotline %(hotline)s."),
         hotline=" ".join(current_app.config["LINLI_HOTLINE"]))
    response.hangup()
    return response


@bp.route("", methods=["POST"])
@twilio_webhook
@remembered_turn
def incoming():
    """A call comes in: greet a known elder (without her name, which the voice may misread); anyone else
    hears the hotline."""
    response = VoiceResponse()
    person, elder = _elder_caller()
    if elder is None:
        if visit_record_voice.has_a_visit_to_record(_caller()):
            # a volunteer calling after a visit: the 探访 record, a key per question
            response.redirect(url_for("visit_record_voice.start"), method="POST")
            return response
        return _hotline_only(response)
    now = utcnow()
    _say(response, person, msg("Hello, this is Linli."))
    try:
        arrived = visit_service.check_in_by_caller_id(db(), elder, now)
    except DomainError:
        db().rollback()
        arrived = None
    if arrived is not None:
        commit()
        _say(response, person, msg("%(volunteer)s is checked in at your home. Thank you. Goodbye."),
             volunteer=arrived.volunteer.name)
        response.hangup()
        return response
    refusable = service_requests.pending_refusal(db(), person.id, now)
    if refusable is not None:
        with force_locale(person.locale):
            text = gettext("%(family)s ordered %(service)s for you. To keep it, press 1. If you do not want it, "
                           "press 2.", family=refusable.placed_by.name,
                           service=service_requests.service_name(person.locale, refusable.service))
        _gather(response, person, "refuse", text, subject_id=refusable.id, ref=refusable.reference)
        return response
    done = service_requests.pending_confirmation(db(), person.id)
    if done is not None:
        with force_locale(person.locale):
            text = gettext("%(volunteer)s says %(service)s is done. If it happened, press 1. Otherwise press 2.",
                           volunteer=done.volunteer.name if done.volunteer else "",
                           service=service_requests.service_name(person.locale, done.service))
        _gather(response, person, "confirm", text, subject_id=done.id, ref=done.reference)
        return response
    return _continue(response, person, now)


IN_PROGRESS = {
    "meal": msg("You were ordering a meal."),
    "cleaning": msg("You were asking for a cleaning."),
    "escort": msg("You were asking for someone to go out with you."),
    "bathing": msg("You were asking for help with a bath."),
}


def _continue(response: VoiceResponse, person: Person, now, fresh: bool = False) -> VoiceResponse:
    state = None if fresh else engine.load(db(), person, "voice", now, adopt=False)
    taken_over = None
    if state is None and not fresh:
        state = taken_over = engine.load(db(), person, "voice", now)
    if state is None:
        state = engine.begin(db(), person, "voice", REQUEST_FLOW, now)
    text = _step_text(person, state)
    if taken_over is not None:
        # A text conversation left half-way: say what is in progress and offer to start again.
        with force_locale(supported_locale(person.locale)):
            doing = IN_PROGRESS.get(state.data.get("service"), msg("You were ordering a service."))
            text = " ".join([gettext(doing), text, gettext("To start again, press 8.")])
        _gather(response, person, "flow", text, restart=1)
        return response
    _gather(response, person, "flow", text)
    return response


@bp.route("/answer", methods=["POST"])
@twilio_webhook
@remembered_turn
def answer():
    """Every <Gather> comes back here; `kind` says what was asked."""
    response = VoiceResponse()
    person, elder = _elder_caller()
    if elder is None:
        return _hotline_only(response)
    now = utcnow()
    today = now.astimezone(local_tz()).date()
    digits = keywords.normalize(request.form.get("Digits"))
    heard = request.form.get("SpeechResult") or ""
    speech = keywords.normalize(heard)
    confidence = request.form.get("Confidence", type=float)
    if digits == "0" or (not digits and keywords.asks_for_person(speech)):
        _dial_person(response, person, elder)
        return response
    kind = request.args.get("kind", "flow")
    if kind == "sos_off":  # the alarm is raised: 2 calls it off, anything else (silence too) reaches a person
        if digits == "2" or (not digits and speech and not keywords.is_emergency(heard)
                             and speech in keywords.CALL_OFF):
            return _call_off(response, person, elder, now)
        _dial_person(response, person, elder)
        return response
    if kind == "sos" and (digits in ("1", "9") or not (digits or speech) or speech in keywords.YES):
        _emergency(response, person, elder)  # confirmed, pressed again, or no answer: it goes through
        return response
    if not digits and keywords.is_emergency(heard):
        _emergency(response, person, elder)
        return response
    if digits == "9" and kind != "sos":
        with force_locale(supported_locale(person.locale)):
            text = gettext("Do you want emergency help? Press 1 to confirm. Press 2 to go back.")
        _gather(response, person, "sos", text)
        return response
    if kind == "sos":
        _say(response, person, msg("All right, no emergency call."))
        return _continue(response, person, now)
    reference = request.args.get("ref", "")
    if kind in ("refuse", "confirm", "rate"):
        return _answer_question(response, person, kind, reference, digits or speech, now)
    state = engine.load(db(), person, "voice", now)
    if state is None:
        return _continue(response, person, now)
    if kind == "switch":
        wanted = request.args.get("service", "")
        switch = state.data.get("_switch") or ""
        state.data = {k: v for k, v in state.data.items() if k != "_switch"}
        if (digits == "1" or (not digits and speech in keywords.YES)) and wanted in {o.value for o in SERVICE_OPTIONS}:
            said = understand.understand(switch, today).answers(today) if switch else {}
            data = said if said.get("service") == wanted else {"service": wanted}  # what was said (明天) kept
            state, too_late = slots.begin(db(), person, "voice", REQUEST_FLOW, now, data)
            if too_late:
                twiml.say(response, _text(person, slots.TOO_LATE), _locale(person))
        return _next(response, person, elder, state, now)
    if kind == "lowconf":
        pending = state.data.get("_pending")
        if digits == "1" and pending and pending.get("step") == state.step:
            try:
                slots.record(db(), state, pending["step"], pending["value"], now)
            except DomainError as error:  # its time passed while she was asked: the question again
                twiml.say(response, _text(person, error.message), _locale(person))
        else:
            state.data = {k: v for k, v in state.data.items() if k != "_pending"}
        return _next(response, person, elder, state, now)
    if (digits == RESTART_KEY and request.args.get("restart")) or (not digits and speech in keywords.RESTART):
        return _continue(response, person, now, fresh=True)
    if state.step == CHECK:
        if digits == "1" or (not digits and speech in keywords.YES):
            try:
                reference = engine.finish(db(), person, state, now)
            except DomainError as error:
                twiml.say(response, _text(person, error.message), _locale(person))
                return _continue(response, person, now, fresh=True)
            questions.answered(db(), person.id)
            _say(response, person, msg("Received. Your reference number is %(ref)s, again: %(ref)s. We will text "
                                       "you when a volunteer accepts it. Goodbye."), ref=reference)
            response.hangup()
            return response
        if digits == "2":
            return _continue(response, person, now, fresh=True)
        said = understand.understand(heard, today) if speech and not digits else None
        if said is not None and said.service not in (None, state.data.get("service")):
            return _ask_to_switch(response, person, state, heard, said.service)
        return _failed(response, person, elder, state, now)
    step = slots.offered(state, now)
    raw = digits or speech
    if not raw:
        return _failed(response, person, elder, state, now)
    said = understand.understand(heard, today) if speech and not digits else None
    if said is not None and step.name != "service" and said.service not in (None, state.data.get("service")) \
            and engine.match_option(step, speech) is None:
        return _ask_to_switch(response, person, state, heard, said.service)
    try:
        value = engine.parse(step, raw, today, allow_free=bool(speech and not digits))
    except NoMatch:
        return _failed(response, person, elder, state, now)
    except DomainError as error:
        twiml.say(response, _text(person, error.message), _locale(person))
        return _failed(response, person, elder, state, now)
    if not digits and (confidence is None or confidence < LOW_CONFIDENCE):
        state.data = {**state.data, "_pending": {"step": step.name, "value": value}}
        with force_locale(person.locale):
            text = gettext("Did you say %(answer)s? If yes, press 1. If not, press 2.",
                           answer=engine.display(FLOWS[state.flow], step.name, value))
        _gather(response, person, "lowconf", text)
        return response
    try:
        slots.record(db(), state, step.name, value, now)
    except DomainError as error:  # a time that has passed: said why, and asked again with what is still open
        twiml.say(response, _text(person, error.message), _locale(person))
        return _next(response, person, elder, state, now)
    if said is not None and slots.fill(db(), state, said.answers(today, state.data.get("service")), now):
        twiml.say(response, _text(person, slots.TOO_LATE), _locale(person))
    return _next(response, person, elder, state, now)


def _ask_to_switch(response: VoiceResponse, person: Person, state, heard: str, service: str) -> VoiceResponse:
    """Another service named during a question (the check too): ask before throwing the answers away;
    1 starts the new order with what was said ("明天打扫卫生" keeps 明天), 2 asks the question again."""
    state.data = {**state.data, "_switch": heard}
    with force_locale(supported_locale(person.locale)):
        text = gettext("You are ordering %(current)s. Change to %(new)s instead? To change, press 1. "
                       "To carry on, press 2.", current=_service_label(state.data["service"]),
                       new=_service_label(service))
    _gather(response, person, "switch", text, service=service)
    return response


def _service_label(service: str) -> str:
    return str(next(o.label for o in SERVICE_OPTIONS if o.value == service))


def _answer_question(response: VoiceResponse, person: Person, kind: str, reference: str, said: str, now):
    """The keys (or words) of a question about a request: each does what the prompt said."""
    found = service_requests.by_reference(db(), reference)
    if found is None or found.elder_id != person.id:
        return _continue(response, person, now)
    yes = said == "1" or said in (keywords.VISITED if kind == "confirm" else keywords.YES)
    no = said == "2" or said in (keywords.NOT_VISITED if kind == "confirm" else keywords.NO)
    try:
        if kind == "rate":
            rating = next((key for key, words in keywords.RATING.items() if said in words), None)
            if rating is not None:
                service_requests.rate(db(), found, person, VOICE_RATINGS[rating], now, channel="voice")
                questions.answered(db(), person.id)
                _say(response, person, msg("Thank you! We have noted it. Take care!"))
            else:
                _say(response, person, msg("Thank you for confirming. Take care!"))
            response.hangup()
            return response
        if kind == "refuse" and no:
            service_requests.refuse(db(), found, person, "voice", now)
            questions.answered(db(), person.id)
            _say(response, person, msg("All right, it is cancelled. We have told %(family)s."),
                 family=found.placed_by.name)
            response.hangup()
            return response
        if kind == "refuse" and yes:
            questions.answered(db(), person.id)
            with force_locale(supported_locale(person.locale)):
                _say(response, person, msg("All right, %(service)s stays as %(family)s ordered it."),
                     service=service_requests.service_name(person.locale, found.service),
                     family=found.placed_by.name)
        if kind == "confirm" and yes:
            service_requests.confirm(db(), found, person, "voice", now)
            with force_locale(supported_locale(person.locale)):
                text = gettext("Thank you for confirming. How was it? Satisfied, press 1. So-so, press 2. "
                               "Not satisfied, press 3.")
            _gather(response, person, "rate", text, subject_id=found.id, ref=found.reference)
            return response
        if kind == "confirm" and no:
            service_requests.not_done(db(), found, person, "voice", now)
            questions.answered(db(), person.id)
            _say(response, person, msg("Thank you for telling us. The community worker will call you."))
    except DomainError as error:
        twiml.say(response, _text(person, error.message), _locale(person))
    return _continue(response, person, now)


def _next(response, person, elder, state, now):
    _gather(response, person, "flow", _step_text(person, state))
    return response


def _failed(response, person, elder, state, now):
    failures = int(state.data.get("_retries", 0)) + 1
    if failures > MAX_FAILURES:
        state.data = {**state.data, "_retries": 0}
        _dial_person(response, person, elder)
        return response
    state.data = {**state.data, "_retries": failures}
    engine.touch(state, now)
    _say(response, person, msg("Sorry, I did not get that."))
    _gather(response, person, "flow", _step_text(person, state))
    return response


# For the other calls Linli makes (the visit confirmation): the same 9 and 0.
emergency = _emergency
dial_person = _dial_person
