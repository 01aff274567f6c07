"""The sender: the one place texts and calls leave, outside every web request and webhook.

A web request or a Twilio webhook only commits its outbox rows and returns. The sender — its own
process (`linli sender`), or a thread in the demo's process — claims due rows lane by lane
(`portal.channels.outbox.claim_next`: emergency alerts, then login codes and urgent messages, then
the rest), takes a token from the provider's bucket (shared through Redis in production, in
memory by default) and sends. It is woken at once: by PostgreSQL NOTIFY (`enqueue` notifies in
the same transaction), by an event in the same process, or by a short poll (SQLite).
"""
from __future__ import annotations

import logging
import threading
import time

from portal.channels import outbox
from portal.db import utcnow
from portal.services.outbox import OUTBOX_CHANNEL, stopped_among

log = logging.getLogger("linli.sender")

SENDER_MODES = ("inline", "thread", "process")
STALE_CHECK_SECONDS = 60.0
BATCH_SECONDS = 0.1
MAX_BATCH = 25


def sender_mode(config) -> str:
    """LINLI_SENDER; unset, "inline" under TESTING (tests read the transport after a request), else "process"."""
    mode = (config.get("LINLI_SENDER") or "").strip().lower()
    if not mode:
        return "inline" if config.get("TESTING") else "process"
    if mode not in SENDER_MODES:
        raise ValueError(f"LINLI_SENDER={mode!r} is not one of {', '.join(SENDER_MODES)}")
    return mode


class _PostgresWake:
    """LISTEN on the outbox channel on a connection of its own."""

    def __init__(self, engine):
        import psycopg

        dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.connection = psycopg.connect(dsn, autocommit=True)
        self.connection.execute(f"LISTEN {OUTBOX_CHANNEL}")

    def wait(self, seconds: float) -> None:
        for _notify in self.connection.notifies(timeout=seconds, stop_after=1):
            break

    def close(self) -> None:
        self.connection.close()


class Sender:
    """Sends what the outbox holds until stopped. Several may run at once: a row is claimed once."""

    def __init__(self, session_factory, transport, bucket, poll_seconds: float = 0.5):
        self.session_factory = session_factory
        self.transport = transport
        self.bucket = bucket
        # Claim and commit in batches of what the provider's rate lets out in BATCH_SECONDS (one at
        # 1 message/s, up to MAX_BATCH): two commits a batch instead of two a message.
        self.batch_size = max(1, min(MAX_BATCH, int(getattr(bucket, "rate", 1) * BATCH_SECONDS)))
        self.poll_seconds = poll_seconds
        self.stop = threading.Event()
        self.wake_event = threading.Event()
        self.sent = 0
        self._stale_checked = 0.0

    def wake(self) -> None:
        self.wake_event.set()

    def drain(self) -> int:
        """Send everything due now, most urgent first. Returns how many messages were tried."""
        tried = 0
        with self.session_factory() as session:
            if time.monotonic() - self._stale_checked > STALE_CHECK_SECONDS:
                outbox.release_stale(session, utcnow())
                outbox.forget_early_callbacks(session, utcnow())
                session.commit()
                self._stale_checked = time.monotonic()
            while not self.stop.is_set():
                # The token first, then the claim: whatever is most urgent at that moment goes next.
                if not self.bucket.wait(self.stop):
                    continue
                batch = outbox.claim_batch(session, utcnow(), self.batch_size)
                if not batch:
                    break
                tried += self._send_batch(session, batch)
        self.sent += tried
        return tried

    def _send_batch(self, session, batch) -> int:
        """Send a claimed batch, one provider token each (the first is already taken), and record
        the outcomes in one commit. A batch is what the provider takes in about BATCH_SECONDS, so
        an emergency alert queued meanwhile waits at most that long for the next claim."""
        stopped = stopped_among(session, [message.to_phone for message in batch])
        sids = []
        tried = 0
        try:
            for index, message in enumerate(batch):
                if index and not self.bucket.wait(self.stop):
                    break  # stopping: the rest stay "sending" and are looked up, never sent blindly
                sid = outbox.send_one(session, self.transport, message, utcnow(), commit=False, stopped=stopped)
                tried += 1
                if sid is not None:
                    sids.append(sid)
        finally:
            session.commit()
        outbox.apply_early_callbacks(session, sids, utcnow())
        return tried

    def run(self, until_empty: bool = False) -> int:
        """Loop: drain, then wait to be woken (NOTIFY, `wake()`) or for the poll interval."""
        engine = self.session_factory.kw["bind"]
        listener = _PostgresWake(engine) if engine.dialect.name == "postgresql" else None
        try:
            while not self.stop.is_set():
                try:
                    tried = self.drain()
                except Exception:  # a database hiccup: keep the sender alive, try again shortly
                    log.exception("the sender's round failed; trying again")
                    tried = 0
                    time.sleep(self.poll_seconds)
                if until_empty and tried == 0:
                    break
                if tried:
                    continue
                if listener is not None:
                    listener.wait(max(self.poll_seconds, 5.0))
                elif self.wake_event.wait(self.poll_seconds):
                    self.wake_event.clear()
        finally:
            if listener is not None:
                listener.close()
        return self.sent


def sender_for(app) -> Sender:
    """A sender with the app's database, transport and the provider's shared token bucket."""
    from portal.ratelimit import make_token_bucket

    state = app.extensions["linli"]
    bucket = make_token_bucket(app.config.get("LINLI_REDIS_URL"), app.config["LINLI_PROVIDER_RATE_PER_SECOND"],
                               app.config["LINLI_PROVIDER_BURST"])
    return Sender(state.session_factory, state.transport, bucket, app.config["LINLI_SENDER_POLL_SECONDS"])


def start_sender_thread(app) -> Sender:
    """The demo's sender: a daemon thread next to the dev server, woken by every commit that queues."""
    sender = sender_for(app)
    app.extensions["linli"].sender = sender
    threading.Thread(target=sender.run, name="linli-sender", daemon=True).start()
    return sender
