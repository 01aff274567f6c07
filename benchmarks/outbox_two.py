"""Outbox throughput with two `linli sender` processes against a fake Twilio on loopback (keep-alive).

    python benchmarks/outbox_two.py                       # SQLite in a temp dir, 3,000 texts
    python benchmarks/outbox_two.py --count 1000 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scratch

The database named is emptied (its tables dropped and created): give it a scratch one. Both senders
share the provider's bucket through Redis when Redis answers (as in production), else each has its
own. Prints texts/s between the first and the last provider call (and including start-up), the split
between the two, and how many texts reached the provider twice (must be 0).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TOKEN = "benchmark-twilio-token-" + "x" * 16


def _redis_url() -> str:
    try:
        import redis

        url = "redis://127.0.0.1:6379/14"
        redis.Redis.from_url(url, socket_timeout=1).ping()
        redis.Redis.from_url(url).delete("linli:provider-bucket")
        return url
    except Exception:
        return ""


def run(url: str, count: int = 3000, timeout: float = 300) -> dict:
    from sqlalchemy import insert

    import portal.models  # noqa: F401
    from portal.db import Base, make_engine, make_session_factory, utcnow
    from portal.models import PRIORITY_BULK, OutboundMessage
    from tests.channels.fake_twilio import FakeTwilio

    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    now = utcnow() - timedelta(seconds=1)
    with make_session_factory(engine)() as session:
        rows = [{"channel": "sms", "to_phone": f"+86139{n:08d}", "kind": "reminder", "body": f"提醒 {n}",
                 "urgent": False, "priority": PRIORITY_BULK, "quiet_hours": False, "status": "queued",
                 "attempts": 0, "next_attempt_at": now, "created_at": now, "updated_at": now} for n in range(count)]
        for start in range(0, len(rows), 5000):
            session.execute(insert(OutboundMessage), rows[start:start + 5000])
        session.commit()
    engine.dispose()
    redis_url = _redis_url()
    instance = Path(tempfile.mkdtemp(prefix="linli-outbox-"))
    fake = FakeTwilio()
    # as Twilio's API: connections kept alive, and each answer leaves as written (no Nagle delay)
    fake.server.RequestHandlerClass.protocol_version = "HTTP/1.1"
    fake.server.RequestHandlerClass.disable_nagle_algorithm = True
    with fake:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LINLI_", "TWILIO_", "FLASK_"))}
        env.update(LINLI_DATABASE_URL=url, LINLI_INSTANCE_PATH=str(instance), LINLI_ENV="development",
                   LINLI_LOG_LEVEL="WARNING", TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_AUTH_TOKEN=TOKEN,
                   TWILIO_FROM_NUMBER="+8610690000000", TWILIO_API_BASE=fake.url, LINLI_REDIS_URL=redis_url,
                   LINLI_PROVIDER_RATE_PER_SECOND="100000", LINLI_PROVIDER_BURST="1000")
        linli = ROOT / ".venv" / "bin" / "linli"
        started = time.monotonic()
        processes = [subprocess.Popen([str(linli), "sender", "--until-empty"], cwd=ROOT, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
        outputs = []
        for process in processes:
            try:
                outputs.append(process.communicate(timeout=timeout)[0])
            finally:
                if process.poll() is None:
                    process.kill()
        elapsed = time.monotonic() - started
        created = list(fake.created)
    bodies = Counter(c["form"].get("Body") for c in created)
    twice = sum(n - 1 for n in bodies.values() if n > 1)
    shares = []
    for output in outputs:
        try:
            shares.append(int(output.split("sender stopped: ")[1].split()[0]))
        except (IndexError, ValueError):
            shares.append(None)
    window = (created[-1]["monotonic"] - created[0]["monotonic"]) if len(created) > 1 else None
    return {"count": count, "sent": len(bodies), "twice": twice, "shares": shares,
            "rate": (len(created) - 1) / window if window else None,
            "rate_with_startup": len(created) / elapsed, "seconds": elapsed,
            "bucket": "Redis" if redis_url else "per process",
            "exit_codes": [p.returncode for p in processes],
            "output_tail": [o.strip()[-300:] for o in outputs if not o.strip().startswith("sender stopped")]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--count", type=int, default=3000)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='linli-outbox-')) / 'outbox.sqlite3'}"
    print(json.dumps(run(url, args.count), ensure_ascii=False))


if __name__ == "__main__":
    main()
