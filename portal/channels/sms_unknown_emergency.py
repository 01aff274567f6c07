"""An unregistered number texting 救命: Linli cannot send anyone to it, so it says to call 120 first,
then the community hotline (before the general "not registered" answer)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from portal.channels.inbound import inbound_handler
from portal.channels.sms_keywords import default_hotline
from portal.conversation import keywords
from portal.conversation.engine import normalize
from portal.i18n import translate_for
from portal.models import Person


@inbound_handler(0, "unknown-number-emergency")
def unknown_number_emergency(session: Session, person: Person | None, text: str, now: datetime) -> str | None:
    said = normalize(text)
    if person is not None or not any(word in said for word in keywords.EMERGENCY):
        return None
    locale = "en" if said.isascii() else "zh_Hans"
    return translate_for(locale, "Linli: if you are in danger, call 120 now. This number is not registered with "
                         "us, so we cannot send anyone. Then call the community hotline %(hotline)s.",
                         hotline=default_hotline())
