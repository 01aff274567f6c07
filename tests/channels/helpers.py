"""Signed Twilio webhook requests for the channel tests."""
from __future__ import annotations

import itertools
import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from portal.channels.transport import TwilioTransport
from portal.channels.twilio_hooks import sign

TOKEN = "test-twilio-auth-token"
PUBLIC_URL = "https://linli.example.org"
_sids = itertools.count(1)


def new_sid(prefix: str = "SM") -> str:
    return f"{prefix}{next(_sids):032x}"


def post_signed(client, path: str, params: dict, token: str = TOKEN, signed_url: str | None = None, **kwargs):
    signature = sign(signed_url or PUBLIC_URL + path, params, token)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature, **kwargs.pop("headers", {})},
                       **kwargs)


def text(client, phone: str, body: str, sid: str | None = None, **kwargs):
    params = {"MessageSid": sid or new_sid(), "AccountSid": "AC" + "0" * 32, "From": phone,
              "To": "+8610690000000", "Body": body, "NumMedia": "0"}
    return post_signed(client, "/twilio/sms", params, **kwargs)


def reply_of(response) -> str | None:
    """The text of the TwiML <Message>, or None for an empty <Response/>."""
    xml = response.get_data(as_text=True)
    assert xml.startswith("<?xml") and "<Response" in xml, xml
    match = re.search(r"<Message>(.*)</Message>", xml, re.S)
    if not match:
        return None
    import html

    return html.unescape(match.group(1))


SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai(*args) -> datetime:
    """A wall-clock moment in Shanghai, as UTC (the tests set their clocks with it)."""
    return datetime(*args, tzinfo=SHANGHAI).astimezone(timezone.utc)


def twilio(fake, timeout: float = 10.0) -> TwilioTransport:
    """The real Twilio transport pointed at the loopback fake (tests/channels/fake_twilio.py)."""
    return TwilioTransport("AC" + "0" * 32, TOKEN, "+8610690000000", status_callback=None, api_base=fake.url,
                           timeout=timeout)
