"""The phone simulator (dev tools only): text or call the portal as a demo person, or answer a call
the portal placed to her (每日问安, a visit check).

Every text and key press becomes a properly signed Twilio webhook posted to this same app
(`/twilio/sms`, `/twilio/voice` and the Gather action URLs), so workers can train and anyone
can try the SMS and voice flows without a Twilio account.
"""
from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.validators import ValidationError

from portal.access import public
from portal.channels.twilio_hooks import sign, webhook_token
from portal.i18n import _
from portal.models import OutboundMessage, Person
from portal.services import inbox
from portal.services.sms_text import clean_inbound
from portal.web import db, render_page, wants_partial
from portal.web.forms import SimulatorCallForm, SimulatorTextForm

bp = Blueprint("phone", __name__, url_prefix="/dev/phone")

UNKNOWN_PHONE = "+8613999999999"  # a number nobody in the demo has
PORTAL_NUMBER = "+8610690000000"
ACCOUNT_SID = "AC" + "0" * 32
KEYPAD = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"]


@dataclass
class ThreadItem:
    at: object
    direction: str  # in | reply | out
    body: str
    status: str = ""


@dataclass
class CallScreen:
    said: list[str] = field(default_factory=list)
    gather_action: str | None = None
    speech: bool = False
    dial: str | None = None
    redirect: str | None = None
    hung_up: bool = False
    missing: bool = False
    error: str | None = None


def _people():
    return db().scalars(select(Person).where(Person.active).order_by(Person.id).limit(60)
                        .options(selectinload(Person.grants))).all()


def _chosen(value: str | None) -> tuple[str, Person | None, str]:
    """(the value of the person field, the person, the phone that texts or calls)."""
    value = (value or "").strip()
    if value == "unknown":
        return value, None, UNKNOWN_PHONE
    person = db().get(Person, int(value)) if value.isdigit() else None
    if person is None:
        person = db().scalar(select(Person).where(Person.active).order_by(Person.id).limit(1))
        if person is None:
            return "unknown", None, UNKNOWN_PHONE
    return str(person.id), person, person.phone


def _thread(phone: str) -> list[ThreadItem]:
    items: list[ThreadItem] = []
    for message in inbox.thread(db(), phone):
        items.append(ThreadItem(message.received_at, "in", message.body, message.status))
        if message.reply:
            items.append(ThreadItem(message.received_at, "reply", message.reply))
    outbound = db().scalars(
        select(OutboundMessage).where(OutboundMessage.to_phone == phone, OutboundMessage.channel == "sms")
        .order_by(OutboundMessage.id.desc()).limit(40)
    ).all()
    items += [ThreadItem(m.created_at, "out", m.body, m.status) for m in outbound]
    items.sort(key=lambda item: (item.at, {"in": 0, "reply": 1, "out": 2}[item.direction]))
    return items[-60:]


def _post_signed(target: str, params: dict):
    """POST `params` to our own webhook `target` (a path with an optional query), signed as Twilio would."""
    app = current_app._get_current_object()
    token = webhook_token(app.config)
    if not token:
        abort(503)
    parts = urlsplit(target)
    path_and_query = parts.path + (f"?{parts.query}" if parts.query else "")
    signature = sign(app.config["LINLI_PUBLIC_URL"] + path_and_query, params, token)
    db().rollback()  # hold no database snapshot or lock while the webhook runs
    with app.app_context():  # its own context: the webhook gets its own database session
        return app.test_client().post(path_and_query, data=params, headers={"X-Twilio-Signature": signature})


# Calls Linli places whose TwiML the simulator can play from the elder's side (每日问安, visit checks).
OUTBOUND_CALL_PATHS = ("/twilio/voice/checkin/", "/twilio/voice/visit/")


def _ringing(phone: str) -> str | None:
    """The TwiML path of the latest call Linli placed to this phone that the simulator can answer."""
    calls = db().scalars(
        select(OutboundMessage).where(OutboundMessage.to_phone == phone, OutboundMessage.channel == "call")
        .order_by(OutboundMessage.id.desc()).limit(5)).all()
    for message in calls:
        target = _local_target(message.body)
        if target and target.startswith(OUTBOUND_CALL_PATHS):
            return target
    return None


def _page(person_value: str | None, call: CallScreen | None = None, call_sid: str | None = None,
          text_form: SimulatorTextForm | None = None, call_form: SimulatorCallForm | None = None):
    value, person, phone = _chosen(person_value)
    context = dict(people=_people(), chosen=value, person=person, phone=phone, thread=_thread(phone),
                   ringing=_ringing(phone),
                   call=call, call_sid=call_sid, keypad=KEYPAD, unknown_phone=UNKNOWN_PHONE,
                   text_form=text_form or SimulatorTextForm(formdata=None),
                   call_form=call_form or SimulatorCallForm(formdata=None))
    return render_page("dev/phone.html", partial="dev/_phone_thread.html", target="phone-thread", **context)


@bp.route("", methods=["GET"])
@public
def index():
    return _page(request.args.get("person"))


@bp.route("/text", methods=["POST"])
@public
def text():
    form = SimulatorTextForm()
    valid = form.validate_on_submit()
    if valid and not clean_inbound(form.body.data, 5000):
        form.body.errors.append(_("Type a text message first."))
        valid = False
    if not valid:
        return _page(form.person.data, text_form=form)
    value, _person, phone = _chosen(form.person.data)
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "SmsSid": "",
        "AccountSid": ACCOUNT_SID,
        "From": phone,
        "To": PORTAL_NUMBER,
        "Body": form.body.data,
        "NumMedia": "0",
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
    }
    params["SmsSid"] = params["MessageSid"]
    response = _post_signed("/twilio/sms", params)
    if response.status_code != 200:
        flash(_("The portal refused the text (HTTP %(code)s).", code=response.status_code))
    if wants_partial("phone-thread"):
        return _page(value)
    return redirect(url_for(".index", person=value), code=303)


def _local_target(url: str) -> str | None:
    """A TwiML URL as a local path; None unless it points at one of our own /twilio/ webhooks."""
    public_url = current_app.config["LINLI_PUBLIC_URL"]
    if url.startswith(public_url):
        url = url[len(public_url):]
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/twilio/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _read_twiml(xml_text: str, current: str) -> CallScreen:
    screen = CallScreen()
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError:
        screen.error = _("The answer was not TwiML.")
        return screen
    for element in root.iter():
        if element.tag in ("Say", "Play") and "".join(element.itertext()).strip():
            screen.said.append("".join(element.itertext()).strip())  # <say-as> digits inside a <Say> too
        elif element.tag == "Gather":
            screen.gather_action = _local_target(element.get("action") or current)
            screen.speech = "speech" in (element.get("input") or "")
        elif element.tag == "Dial":
            number = (element.text or "").strip() or " ".join(
                (child.text or "").strip() for child in element if child.tag == "Number")
            screen.dial = number
        elif element.tag == "Redirect":
            screen.redirect = _local_target((element.text or "").strip())
        elif element.tag in ("Hangup", "Reject"):
            screen.hung_up = True
    return screen


def _own_webhook(form, field):
    if field.data and _local_target(field.data) is None:
        raise ValidationError(_("The simulator only calls the portal's own webhooks."))


@bp.route("/call", methods=["POST"])
@public
def call():
    form = SimulatorCallForm()
    if not form.validate_on_submit(extra_validators={"action": [_own_webhook]}):
        return _page(form.person.data, call_form=form)
    value, _person, phone = _chosen(form.person.data)
    call_sid = form.call_sid.data or "CA" + uuid.uuid4().hex
    target = _local_target(form.action.data or "/twilio/voice")
    # Linli called her (每日问安, a visit check): she is the one called, as Twilio reports it.
    outbound = target.startswith(OUTBOUND_CALL_PATHS)
    ours, theirs = (PORTAL_NUMBER, phone) if outbound else (phone, PORTAL_NUMBER)
    params = {
        "CallSid": call_sid,
        "AccountSid": ACCOUNT_SID,
        "From": ours,
        "Caller": ours,
        "To": theirs,
        "Called": theirs,
        "CallStatus": "in-progress" if form.action.data else "ringing",
        "Direction": "outbound-api" if outbound else "inbound",
        "ApiVersion": "2010-04-01",
    }
    if form.digits.data:
        params["Digits"] = form.digits.data
    speech = clean_inbound(form.speech.data, 200)
    if speech:
        params["SpeechResult"] = speech
        params["Confidence"] = "0.90"
    response = _post_signed(target, params)
    if response.status_code == 404:
        screen = CallScreen(missing=True)
    elif response.status_code != 200:
        screen = CallScreen(error=_("The portal answered the call with HTTP %(code)s.", code=response.status_code))
    else:
        screen = _read_twiml(response.get_data(as_text=True), target)
    return _page(value, call=screen, call_sid=call_sid)
