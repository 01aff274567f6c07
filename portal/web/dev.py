"""Dev tools (only registered when LINLI_DEV_TOOLS is on): the outbox as the console transport sent it."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template
from sqlalchemy import select

from portal.access import public
from portal.models import OutboundMessage
from portal.web import db

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.route("/outbox")
@public
def outbox():
    transport = current_app.extensions["linli"].transport
    sent = list(reversed(getattr(transport, "sent", [])))
    queued = db().scalars(
        select(OutboundMessage).where(OutboundMessage.status == "queued").order_by(OutboundMessage.id.desc()).limit(50)
    ).all()
    return render_template("dev/outbox.html", sent=sent, queued=queued)
