#!/usr/bin/env python3
"""Time `ledger check` on a seeded database: the full re-verification in one process and in
parallel chunks, and the daily check from a checkpoint a day's worth of entries back.

    .venv/bin/python benchmarks/perf_ledger.py postgresql+psycopg://postgres@127.0.0.1/linli_perf_130k [BACK] [daily|full]
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

import portal.models  # noqa: E402,F401
from portal.db import make_engine  # noqa: E402
from portal.models import Entry  # noqa: E402
from portal.services.ledger_check import _signature, check_ledger  # noqa: E402


def main() -> None:
    url = sys.argv[1]
    back = int(sys.argv[2]) if len(sys.argv) > 2 else 4000  # about a day of a district's entries
    engine = make_engine(url)
    with engine.connect() as connection:
        last = connection.execute(select(func.max(Entry.id))).scalar()
        at = "2026-12-01T01:30:00+00:00"
        entry_id = last - back
        digest = connection.execute(select(Entry.hash).where(Entry.id == entry_id)).scalar()
        since = {"entry_id": entry_id, "hash": digest, "at": at, "signature": _signature(entry_id, digest, at)}
        only = sys.argv[3] if len(sys.argv) > 3 else ""
        for label, kwargs in (("daily (from a checkpoint)", {"since": since}),
                              ("full, 1 process", {"workers": 1}),
                              (f"full, {os.cpu_count()} processes", {"workers": os.cpu_count()})):
            if only and not label.startswith(only):
                continue
            started = time.perf_counter()
            result = check_ledger(connection, **kwargs)
            print(f"{label:28}: {time.perf_counter() - started:6.2f} s  {result.summary()}", flush=True)


if __name__ == "__main__":
    main()
