"""How long an SOS waits behind a reminder wave, and how fast senders drain the outbox.

    python benchmarks/sos_first.py                      # SQLite, 15,000 reminders, 1 text/s (a long code)
    python benchmarks/sos_first.py --rate 30 --backlog 15000
    python benchmarks/sos_first.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/mine

A fake Twilio on loopback (tests/channels/fake_twilio.py) answers every request, after
`--provider-delay` seconds. A sender thread (the code `linli sender` runs) drains the backlog at
`--rate` texts a second; a few seconds in, an SOS is queued. The figure is the time from the SOS's
commit to its first request at the provider. Then it drains for `--drain-seconds` without the
bucket's limit and prints the throughput of one sender.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--backlog", type=int, default=15_000)
    parser.add_argument("--rate", type=float, default=1.0, help="the provider's pace, texts per second")
    parser.add_argument("--provider-delay", type=float, default=0.0)
    parser.add_argument("--drain-seconds", type=float, default=10.0)
    args = parser.parse_args()

    from sqlalchemy import insert

    import portal.models  # noqa: F401
    from portal.channels.sender import Sender
    from portal.channels.transport import TwilioTransport
    from portal.db import Base, make_engine, make_session_factory, utcnow
    from portal.models import PRIORITY_BULK, OutboundMessage
    from portal.ratelimit import MemoryTokenBucket
    from portal.services.outbox import enqueue
    from tests.channels.fake_twilio import FakeTwilio

    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='linli-sos-')) / 'sos.sqlite3'}"
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    now = utcnow() - timedelta(seconds=1)
    with factory() as session:
        rows = [{"channel": "sms", "to_phone": f"+86139{n:08d}", "kind": "reminder", "body": f"提醒 {n}",
                 "urgent": False, "priority": PRIORITY_BULK, "quiet_hours": False, "status": "queued",
                 "attempts": 0, "next_attempt_at": now, "created_at": now, "updated_at": now}
                for n in range(args.backlog)]
        for start in range(0, len(rows), 5000):
            session.execute(insert(OutboundMessage), rows[start:start + 5000])
        session.commit()

    with FakeTwilio() as fake:
        fake.delay_every = args.provider_delay
        transport = TwilioTransport("AC" + "0" * 32, "token", "+8610690000000", None, api_base=fake.url)
        sender = Sender(factory, transport, MemoryTokenBucket(args.rate, 1), poll_seconds=0.5)
        thread = threading.Thread(target=sender.run, daemon=True)
        thread.start()
        time.sleep(3)
        with factory() as session:
            sos_at = time.monotonic()
            enqueue(session, "+8613800000009", "紧急求助：王秀英需要帮助", emergency=True)
            session.commit()
        # No wake(): as in production, the sender hears of it by NOTIFY (PostgreSQL) or its poll (SQLite).
        first = None
        deadline = time.monotonic() + 30
        while first is None and time.monotonic() < deadline:
            first = next((c for c in list(fake.created) if "紧急求助" in (c["form"].get("Body") or "")), None)
            time.sleep(0.005)
        before = sum(1 for c in fake.created if first and c["monotonic"] < first["monotonic"])
        if first is None:
            print("SOS did not reach the provider within 30 s")
        else:
            print(f"{engine.dialect.name}: SOS to first provider call with {args.backlog:,} reminders queued: "
                  f"{(first['monotonic'] - sos_at) * 1000:.0f} ms at {args.rate:g} texts/s "
                  f"({before} reminders before it)")
        sender.bucket = MemoryTokenBucket(1_000_000, 1_000_000)
        count_before, drain_start = len(fake.created), time.monotonic()
        time.sleep(args.drain_seconds)
        drained = len(fake.created) - count_before
        print(f"one sender, unpaced: {drained / (time.monotonic() - drain_start):.0f} texts/s "
              f"(provider delay {args.provider_delay:g} s)")
        sender.stop.set()
        thread.join(10)
    engine.dispose()


if __name__ == "__main__":
    main()
