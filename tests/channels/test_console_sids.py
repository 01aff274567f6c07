"""Console provider ids are unique across processes and restarts (outbound_messages.provider_sid is unique)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from portal.channels import outbox as sender
from portal.channels.transport import ConsoleTransport
from portal.models import OutboundMessage
from portal.services.outbox import enqueue

ROOT = Path(__file__).resolve().parents[2]
FIRST_SID = ("from portal.channels.transport import ConsoleTransport; "
             "print(ConsoleTransport().send_sms('+8613700000000', 'hello'))")


def test_two_processes_never_hand_out_the_same_console_sid():
    sids = [
        subprocess.run([sys.executable, "-c", FIRST_SID], cwd=ROOT, capture_output=True, text=True, timeout=60,
                       check=True).stdout.strip()
        for _ in range(2)
    ]
    assert all(sid.startswith("CONSOLE") for sid in sids)
    assert sids[0] != sids[1]


def test_senders_in_two_processes_write_to_one_outbox(app, session, world):
    """Like the web app's sender and then `linli jobs run send-outbox`: each with a fresh console transport."""
    first_process, second_process = ConsoleTransport(), ConsoleTransport()
    one = enqueue(session, world.worker_a.phone, "one")
    session.commit()
    assert sender.send_due(session, first_process, ids=[one.id]) == 1
    two = enqueue(session, world.worker_a.phone, "two")
    session.commit()
    assert sender.send_due(session, second_process, ids=[two.id]) == 1  # was a UNIQUE violation

    session.expire_all()
    rows = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
    assert [row.status for row in rows] == ["sent", "sent"]
    assert len({row.provider_sid for row in rows}) == 2
    assert all(len(row.provider_sid) <= 64 for row in rows)
