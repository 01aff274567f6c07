"""Time `check_ledger` on a large ledger: python tests/benchmarks/bench_ledger_check.py [entries] [url]

Builds a valid chain of gift-like transfers between a few thousand accounts with bulk inserts,
then runs the same one-pass check as `linli ledger check`. Not part of the test run.
"""
from __future__ import annotations

import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert

import portal.models  # noqa: F401
from portal.db import Base, make_engine
from portal.models import Account, Entry, LedgerHead, Transfer
from portal.models.ledger import GENESIS_HASH
from portal.services.ledger import created_us, entry_hash
from portal.services.ledger_check import check_ledger


def build(engine, entries: int, accounts: int = 5000) -> None:
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    balances = [0] * (accounts + 1)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    prev, entry_id = GENESIS_HASH, 0
    with engine.begin() as conn:
        conn.execute(insert(Account), [{"id": i, "key": f"pool:{i}", "kind": "donation_pool", "balance": 0,
                                        "created_at": start} for i in range(1, accounts + 1)])
        transfers, rows = [], []
        for transfer_id in range(1, entries // 2 + 1):
            source, target = transfer_id % accounts + 1, (transfer_id * 7 + 3) % accounts + 1
            if source == target:
                target = target % accounts + 1
            at = start + timedelta(seconds=transfer_id)
            transfers.append({"id": transfer_id, "kind": "gift", "amount": 30, "from_account_id": source,
                              "to_account_id": target, "created_at": at})
            for account, amount in ((source, -30), (target, 30)):
                entry_id += 1
                digest = entry_hash(prev, entry_id, transfer_id, "gift", account, amount, None, None, created_us(at))
                rows.append({"id": entry_id, "transfer_id": transfer_id, "account_id": account, "amount": amount,
                             "prev_hash": prev, "hash": digest})
                prev = digest
                balances[account] += amount
            if len(rows) >= 100_000:
                conn.execute(insert(Transfer), transfers)
                conn.execute(insert(Entry), rows)
                transfers, rows = [], []
        if rows:
            conn.execute(insert(Transfer), transfers)
            conn.execute(insert(Entry), rows)
        for account in range(1, accounts + 1):
            if balances[account]:
                conn.execute(Account.__table__.update().where(Account.__table__.c.id == account)
                             .values(balance=balances[account]))
        conn.execute(insert(LedgerHead), [{"id": 1, "last_entry_id": entry_id, "last_hash": prev, "version": 1}])


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_500_000
    url = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    engine = make_engine(url)
    began = time.perf_counter()
    build(engine, count)
    print(f"built {count} entries in {time.perf_counter() - began:.1f} s")
    began = time.perf_counter()
    with engine.connect() as connection:
        result = check_ledger(connection)
    print(f"{result.summary()} in {time.perf_counter() - began:.1f} s")
