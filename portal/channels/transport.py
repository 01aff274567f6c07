"""Providers behind one small interface: the console (offline default) and Twilio."""
from __future__ import annotations

import logging
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from portal.db import utcnow

log = logging.getLogger("linli.transport")


class TransportError(Exception):
    """A send failed. `retryable` says whether trying again later may succeed."""

    def __init__(self, message: str, retryable: bool, maybe_sent: bool = False):
        super().__init__(message)
        self.retryable = retryable
        # The request reached the provider but its answer did not reach us (a read time-out): the
        # message may have gone out, so it is looked up before it is ever sent again.
        self.maybe_sent = maybe_sent


@dataclass
class SentRecord:
    sid: str
    channel: str
    to: str
    body: str
    kind: str
    at: datetime = field(default_factory=utcnow)


class ConsoleTransport:
    """Prints messages to the server console and keeps the last ones in memory for /dev/outbox.

    Login codes are printed only when dev tools are on; otherwise the line is redacted,
    because a production log must never carry a login code.
    """

    name = "console"
    public_url = ""

    def __init__(self, show_secrets: bool = False, keep: int = 200):
        self.show_secrets = show_secrets
        self.sent: deque[SentRecord] = deque(maxlen=keep)
        self._lock = threading.Lock()

    @staticmethod
    def new_sid() -> str:
        # outbound_messages.provider_sid is unique: a counter restarting in every process (the web
        # workers, the scheduler, `linli jobs run`) gave the same id twice. A uuid never repeats.
        return f"CONSOLE{uuid.uuid4().hex}"

    def _record(self, channel: str, to: str, body: str, kind: str) -> str:
        sid = self.new_sid()
        with self._lock:
            self.sent.append(SentRecord(sid, channel, to, body, kind))
        shown = body if (self.show_secrets or kind != "login_code") else "[login code redacted]"
        if kind == "login_code" or not self.show_secrets:
            to_shown = to[:-4] + "****" if not self.show_secrets else to
        else:
            to_shown = to
        log.info("%s to %s: %s", channel.upper(), to_shown, shown)
        return sid

    def send_sms(self, to: str, body: str, kind: str = "notice") -> str:
        return self._record("sms", to, body, kind)

    def place_call(self, to: str, say: str, kind: str = "notice", twiml_url: str | None = None,
                   locale: str | None = None, machine_detection: bool = False) -> str:
        return self._record("call", to, twiml_url or say, kind)  # a URL call: which TwiML it opens

    def messages_to(self, phone: str) -> list[SentRecord]:
        return [record for record in self.sent if record.to == phone]

    def find_sent(self, channel: str, to: str, body: str, since: datetime) -> str | None:
        """The sid of a message like this one sent since `since`, if the provider has it."""
        with self._lock:
            for record in self.sent:
                if record.channel == channel and record.to == to and record.body == body and record.at >= since:
                    return record.sid
        return None


def _maybe_sent(exc: Exception) -> bool:
    """A read time-out: Twilio got the request and may have acted on it (a refused connection: not)."""
    return "ReadTimeout" in type(exc).__name__ or "Read timed out" in str(exc)


class TwilioTransport:
    """Twilio's REST API through its own SDK."""

    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str, from_number: str, status_callback: str | None,
                 api_base: str | None = None, timeout: float = 10.0):
        self._credentials = (account_sid, auth_token, timeout, api_base)
        self._client = None
        self.from_number = from_number
        self.status_callback = status_callback
        # A call whose body is a path on Linli ("/twilio/voice/…") fetches its TwiML from here.
        self.public_url = status_callback.rsplit("/twilio/", 1)[0] if status_callback else ""

    @property
    def client(self):
        """The SDK's client, made on first use: the SDK and `requests` behind it are about 10 MB (measured
        with tracemalloc), and a web worker whose texts leave through `linli sender` never sends."""
        if self._client is None:
            from twilio.http.http_client import TwilioHttpClient
            from twilio.rest import Client

            account_sid, auth_token, timeout, api_base = self._credentials
            client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
            # The SDK logs every request and response at INFO (eight lines a message): at outbox rates
            # that is most of the sender's time and a flood in the log; its warnings still show.
            logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
            if api_base:
                # Lets tests point the SDK at a local fake of the API on loopback.
                client.api.base_url = api_base.rstrip("/")
            self._client = client
        return self._client

    def _call(self, fn, **kwargs) -> str:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            return fn(**kwargs).sid
        except TwilioRestException as exc:
            retryable = exc.status >= 500 or exc.status == 429
            raise TransportError(f"twilio {exc.status}: {exc.code}", retryable=retryable) from exc
        except (TwilioException, OSError) as exc:  # requests' errors are OSErrors
            raise TransportError(f"twilio unreachable: {type(exc).__name__}", retryable=True,
                                 maybe_sent=_maybe_sent(exc)) from exc
        except Exception as exc:
            if type(exc).__module__.startswith(("requests", "urllib3")):
                raise TransportError(f"twilio unreachable: {type(exc).__name__}", retryable=True,
                                     maybe_sent=_maybe_sent(exc)) from exc
            raise

    def find_sent(self, channel: str, to: str, body: str, since: datetime) -> str | None:
        """Ask Twilio whether a message (or call) to `to` was created since `since`: its list
        filtered by To and date. Returns its sid, or None when Twilio has none."""
        from twilio.base.exceptions import TwilioException

        try:
            if channel == "call":
                found = self.client.calls.list(to=to, start_time_after=since, limit=20)
                return found[0].sid if found else None
            found = self.client.messages.list(to=to, date_sent_after=since, limit=50)
        except (TwilioException, OSError) as exc:
            raise TransportError(f"twilio lookup failed: {type(exc).__name__}", retryable=True) from exc
        except Exception as exc:
            if type(exc).__module__.startswith(("requests", "urllib3")):
                raise TransportError(f"twilio lookup failed: {type(exc).__name__}", retryable=True) from exc
            raise
        for message in found:
            if (message.body or "") == body:
                return message.sid
        return None

    def send_sms(self, to: str, body: str, kind: str = "notice") -> str:
        kwargs = {"to": to, "from_": self.from_number, "body": body}
        if self.status_callback:
            kwargs["status_callback"] = self.status_callback
        return self._call(self.client.messages.create, **kwargs)

    def place_call(self, to: str, say: str, kind: str = "notice", twiml_url: str | None = None,
                   locale: str | None = None, machine_detection: bool = False) -> str:
        from twilio.twiml.voice_response import VoiceResponse

        from portal.channels import twiml

        kwargs = {"to": to, "from_": self.from_number}
        if twiml_url:
            kwargs["url"] = twiml_url
        else:
            response = VoiceResponse()
            twiml.say(response, say, locale)
            kwargs["twiml"] = str(response)
        if machine_detection:
            # Twilio tells us in the status callback (AnsweredBy) whether a machine picked up.
            kwargs["machine_detection"] = "Enable"
        if self.status_callback:
            kwargs["status_callback"] = self.status_callback
        return self._call(self.client.calls.create, **kwargs)


TRANSPORT_NAMES = ("", "console", "twilio")


class TransportConfigError(RuntimeError):
    pass


def twilio_configured(config: dict) -> bool:
    return bool(config.get("TWILIO_ACCOUNT_SID") and config.get("TWILIO_AUTH_TOKEN") and config.get("TWILIO_FROM_NUMBER"))


def transport_name(config: dict) -> str:
    """LINLI_TRANSPORT as a name: "console", "twilio", or "" (Twilio when configured, else the console)."""
    chosen = config.get("LINLI_TRANSPORT") or ""
    return chosen.strip().lower() if isinstance(chosen, str) else ""


def make_transport(config: dict):
    """The transport LINLI_TRANSPORT names; unnamed, Twilio when its three settings are present, else the console."""
    name = transport_name(config)
    if name not in TRANSPORT_NAMES:
        raise TransportConfigError(f"LINLI_TRANSPORT={name!r} is not a transport; use 'twilio' or 'console'")
    if name == "twilio" and not twilio_configured(config):
        raise TransportConfigError("LINLI_TRANSPORT=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
                                   "TWILIO_FROM_NUMBER")
    if name != "console" and twilio_configured(config):
        return TwilioTransport(
            config["TWILIO_ACCOUNT_SID"],
            config["TWILIO_AUTH_TOKEN"],
            config["TWILIO_FROM_NUMBER"],
            status_callback=f"{config['LINLI_PUBLIC_URL']}/twilio/status",
            api_base=config.get("TWILIO_API_BASE") or None,
        )
    return ConsoleTransport(show_secrets=bool(config.get("LINLI_DEV_TOOLS")))
