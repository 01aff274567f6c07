"""POST /twilio/sms (inbound texts) and POST /twilio/status (delivery and call status callbacks).

The view stays thin: store the text once (replays and concurrent duplicate deliveries act once),
apply the loop guard (which never silences an emergency, STOP/START, cancel or an answer), dispatch to the inbound handlers, answer with TwiML.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import IntegrityError
from twilio.twiml.messaging_response import MessagingResponse

from portal.channels import outbox
from portal.channels.inbound import dispatch_sms
from portal.channels.sms_answers import never_silenced
from portal.channels.sms_keywords import default_hotline
from portal.channels.twilio_hooks import twilio_webhook
from portal.db import utcnow
from portal.i18n import translate_for
from portal.request_scope import commit, db
from portal.services import inbox
from portal.services.sms_text import SMS_MAX_CHARS, signed, truncate

bp = Blueprint("sms_webhook", __name__)


def twiml(reply: str | None, status: int = 200) -> Response:
    response = MessagingResponse()
    if reply:
        response.message(truncate(signed(reply), SMS_MAX_CHARS))
    return Response(str(response), status=status, mimetype="text/xml")


@bp.route("/twilio/sms", methods=["POST"])
@twilio_webhook
def inbound_sms():
    form = request.form
    provider_sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    if not provider_sid or len(provider_sid) > 64:
        return twiml(None, status=400)
    session = db()
    now = utcnow()
    if inbox.already_received(session, provider_sid):
        return twiml(None)  # a replay: it acted the first time
    sender = inbox.identify_sender(session, form.get("From"), current_app.config["LINLI_DEFAULT_REGION"])
    body = inbox.clean_body(form.get("Body"))
    looped = (not never_silenced(session, sender.person, body, now)
              and inbox.is_loop(session, sender.phone, body, now))
    try:
        message = inbox.store(session, provider_sid, sender, form.get("To"), body,
                              "looped" if looped else "handled", now)
        if looped:
            current_app.logger.warning("loop guard: identical texts from one number; no auto-reply")
            commit()
            return twiml(None)
        try:
            reply = dispatch_sms(session, sender.person, body, now)
        except Exception:
            current_app.logger.exception("an inbound SMS handler failed")
            session.rollback()
            session.info.pop("outbox_new_ids", None)
            message = inbox.store(session, provider_sid, sender, form.get("To"), body, "error", now)
            reply = translate_for(
                sender.person.locale if sender.person else "zh_Hans",
                "Sorry, something went wrong with your text. Please call %(hotline)s.",
                hotline=default_hotline(),
            )
        message.reply = truncate(reply, SMS_MAX_CHARS) if reply else None
        commit()
    except IntegrityError:
        # The same MessageSid arrived twice at once and the other delivery stored it first.
        session.rollback()
        session.info.pop("outbox_new_ids", None)
        return twiml(None)
    return twiml(message.reply)


@bp.route("/twilio/status", methods=["POST"])
@twilio_webhook
def status_callback():
    form = request.form
    provider_sid = (form.get("MessageSid") or form.get("CallSid") or "").strip()
    status = form.get("MessageStatus") or form.get("CallStatus") or form.get("SmsStatus") or ""
    outbox.receive_status(db(), provider_sid, status, now=utcnow(), answered_by=form.get("AnsweredBy") or "")
    return Response(status=204)
