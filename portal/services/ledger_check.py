"""Checking the whole time-bank ledger: one streamed pass that re-verifies the hash chain, the
double entries and every cached balance (`linli ledger check`)."""
from __future__ import annotations

import hmac
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import and_, case, exists, func, or_, select

from portal.models import Account, Entry, LedgerHead, Transfer
from portal.models.ledger import GENESIS_HASH
from portal.services.ledger import chain_hasher, created_us


@dataclass
class CheckResult:
    entries: int
    transfers: int
    accounts: int
    findings: list[str]
    finding_count: int
    # Set when the chain was verified from a signed checkpoint on (the daily check), not from entry 1.
    since: dict | None = None

    @property
    def ok(self) -> bool:
        return self.finding_count == 0

    def summary(self) -> str:
        state = "ok" if self.ok else f"{self.finding_count} problem(s)"
        scope = (f"; chain verified from the checkpoint of {self.since['at']} (entry {self.since['entry_id']})"
                 if self.since else "")
        return (f"ledger {state}: {self.entries} entries, {self.transfers} transfers, "
                f"{self.accounts} accounts; chain intact{scope}" if self.ok else
                f"ledger {state}: {self.entries} entries, {self.transfers} transfers, {self.accounts} accounts{scope}")


class _Findings:
    def __init__(self, limit: int):
        self.limit, self.items, self.count = limit, [], 0

    def __call__(self, text: str) -> None:
        self.count += 1
        if len(self.items) < self.limit:
            self.items.append(text)

    def merge(self, items: list[str], count: int) -> None:
        for text in items:
            if len(self.items) < self.limit:
                self.items.append(text)
        self.count += count


def _verify_chain_range(connection, low: int, high: int, prev: str, limit: int) -> dict:
    """Entries `low`..`high` in chain order: ids without gaps, each following the one before it
    (`prev` is the hash of entry low-1: the checkpoint's, or as recorded in the row before a chunk),
    each hash the keyed hash of its content."""
    read = _entries_in_batches if connection.dialect.name == "postgresql" else _entries_joined
    find = _Findings(limit)
    keyed = chain_hasher().hexdigest
    expected_id = low - 1
    entries = 0
    current = None
    kind = tail = ""
    for entry_id, transfer_id, account_id, amount, prev_hash, digest, transfer in read(connection, low, high):
        entries += 1
        expected_id += 1
        if entry_id != expected_id:
            find(f"entry {entry_id}: expected entry {expected_id} (a row is missing or inserted)")
            expected_id = entry_id
        if transfer_id != current:
            current = transfer_id
            if transfer is None:
                find(f"transfer {transfer_id}: entries without a transfer")
                kind = tail = ""
            else:
                kind, tail = transfer
        if prev_hash != prev:
            find(f"entry {entry_id}: does not follow the entry before it (chain broken)")
        if keyed(f"{prev_hash}|{entry_id}|{transfer_id}|{kind}|{account_id}|{amount}{tail}".encode()) != digest:
            find(f"entry {entry_id}: its content does not match its hash (changed after it was written)")
        prev = digest
    if expected_id < high:
        find(f"entry {expected_id + 1}: expected entry {expected_id + 1} (a row is missing or inserted)")
    return {"entries": entries, "last_id": expected_id, "last_hash": prev, "findings": find.items,
            "count": find.count}


def _transfer_tail(visit_id, reverses_id, moment: int) -> str:
    """What a transfer adds to each of its entries' hashed content after the amount."""
    return f"|{visit_id or ''}|{reverses_id or ''}|{moment}"


def _entries_joined(connection, low: int, high: int):
    """Entries `low`..`high` in id order, each with its transfer's (kind, tail) or None: one joined,
    streamed query (SQLite)."""
    et, tt = Entry.__table__, Transfer.__table__
    created = tt.c.created_at
    query = (
        select(et.c.id, et.c.transfer_id, et.c.account_id, et.c.amount, et.c.prev_hash, et.c.hash,
               tt.c.kind, tt.c.visit_id, tt.c.reverses_id, created)
        .select_from(et.outerjoin(tt, tt.c.id == et.c.transfer_id))
        .where(et.c.id >= low, et.c.id <= high)
        .order_by(et.c.id)
    )
    result = connection.execute(query, execution_options={"stream_results": True, "yield_per": 20_000})
    current = transfer = None
    for entry_id, transfer_id, account_id, amount, prev_hash, digest, kind, visit_id, reverses_id, moment \
            in result:
        if transfer_id != current:  # a transfer's tail is worked out once for its entries
            current = transfer_id
            transfer = None if kind is None else (
                kind, _transfer_tail(visit_id, reverses_id, created_us(moment) if moment is not None else 0))
        yield entry_id, transfer_id, account_id, amount, prev_hash, digest, transfer


# On PostgreSQL the entries and the transfers they belong to are read separately, a batch of ids at
# a time, in binary (index range scans: no join and no sort on the server; the join over the whole
# ledger made the server hash every transfer and sort to disk for each chunk). The key never leaves
# this process; the statements hold only id bounds.
_BATCH = 50_000
_ENTRIES = ("SELECT id, transfer_id, account_id, amount, prev_hash, hash FROM ledger_entries"
            " WHERE id BETWEEN %s AND %s ORDER BY id")
_TRANSFERS = ("SELECT id, kind, visit_id, reverses_id, (extract(epoch FROM created_at) * 1000000)::bigint"
              " FROM ledger_transfers WHERE id BETWEEN %s AND %s")


def _entries_in_batches(connection, low: int, high: int):
    """`_entries_joined` on PostgreSQL: batches of entries, then the transfers they refer to."""
    with connection.connection.driver_connection.cursor() as cursor:
        for start in range(low, high + 1, _BATCH):
            rows = cursor.execute(_ENTRIES, (start, min(high, start + _BATCH - 1)), binary=True).fetchall()
            if not rows:
                continue
            referenced = [row[1] for row in rows]
            transfers = {transfer_id: (kind, _transfer_tail(visit_id, reverses_id, moment or 0))
                         for transfer_id, kind, visit_id, reverses_id, moment in cursor.execute(
                             _TRANSFERS, (min(referenced), max(referenced)), binary=True)}
            for row in rows:
                yield (*row, transfers.get(row[1]))


def _chunk_worker(url: str, low: int, high: int, limit: int) -> dict:
    """One process's share of the full re-verification: its own connection; its chunk starts from
    the hash recorded in the entry before it (the link itself is checked by the chunk before)."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            prev = GENESIS_HASH if low == 1 else connection.execute(
                select(Entry.__table__.c.hash).where(Entry.__table__.c.id == low - 1)).scalar()
            return _verify_chain_range(connection, low, high, prev or "", limit)
    finally:
        engine.dispose()


# Below this many entries one process is quicker than starting several.
PARALLEL_FROM = 50_000


def _verify_chain(connection, first: int, last: int, prev: str, limit: int, workers: int,
                  meanwhile=None) -> list[dict]:
    """The chain from `first` to `last`, in one pass or in `workers` processes over id ranges;
    `meanwhile()` (the checks the database does) runs while the processes hash."""
    span = last - first + 1
    url = connection.engine.url
    parallel = (workers > 1 and span >= PARALLEL_FROM and url.database not in (None, "", ":memory:")
                and "fork" in multiprocessing.get_all_start_methods())
    if not parallel:
        chunks = [_verify_chain_range(connection, first, last, prev, limit)] if last >= first else \
            [{"entries": 0, "last_id": first - 1, "last_hash": prev, "findings": [], "count": 0}]
        if meanwhile is not None:
            meanwhile()
        return chunks
    pieces = workers * 2
    bounds = [first + span * i // pieces for i in range(pieces)] + [last + 1]
    rendered = url.render_as_string(hide_password=False)
    # fork: the children inherit the chain key, which never travels as an argument
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        futures = [pool.submit(_chunk_worker, rendered, low, high - 1, limit)
                   for low, high in zip(bounds, bounds[1:]) if high > low]
        if meanwhile is not None:
            meanwhile()
        results = [future.result() for future in futures]
    if first > 1 or prev != GENESIS_HASH:  # the first chunk started from the recorded hash: check the anchor
        recorded = connection.execute(select(Entry.__table__.c.prev_hash)
                                      .where(Entry.__table__.c.id == first)).scalar()
        if recorded is not None and recorded != prev:
            results.insert(0, {"entries": 0, "last_id": first - 1, "last_hash": prev, "count": 1, "findings": [
                f"entry {first}: does not follow the entry before it (chain broken)"]})
    return results


def _transfer_findings(connection, find, after_entry: int) -> None:
    """Every transfer written as exactly −amount from its source and +amount to its target, its two
    entries next to each other in the chain; transfers with entries after `after_entry` only."""
    et, tt = Entry.__table__, Transfer.__table__
    outgoing = func.sum(case((and_(et.c.account_id == tt.c.from_account_id, et.c.amount == -tt.c.amount), 1),
                             else_=0))
    incoming = func.sum(case((and_(et.c.account_id == tt.c.to_account_id, et.c.amount == tt.c.amount), 1),
                             else_=0))
    query = (
        select(tt.c.id, tt.c.amount, func.count(et.c.id), func.min(et.c.id), func.max(et.c.id), outgoing, incoming)
        .select_from(tt.join(et, et.c.transfer_id == tt.c.id))
        .group_by(tt.c.id, tt.c.amount)
        .having(or_(func.count(et.c.id) != 2, func.max(et.c.id) - func.min(et.c.id) != 1, outgoing != 1,
                    incoming != 1, tt.c.amount <= 0))
        .order_by(tt.c.id)
    )
    new_transfers = select(et.c.transfer_id).where(et.c.id > after_entry)
    if after_entry:
        # bounds as values (not subqueries), so the planner reads only the new transfers' range
        # min() of an expression: both databases would otherwise walk the transfer_id index from its
        # start until they meet a new entry (a second on PostgreSQL), instead of reading the new entries
        first_new = connection.execute(select(func.min(et.c.transfer_id + 0)).where(et.c.id > after_entry)).scalar()
        query = query.where(tt.c.id >= (first_new or 0), tt.c.id.in_(new_transfers))
    for transfer_id, amount, count, low, high, out, into in connection.execute(query):
        if amount <= 0:
            find(f"transfer {transfer_id}: amount {amount} is not positive")
        if count == 2 and high - low != 1:
            find(f"transfer {transfer_id}: entries are not together in the chain")
        if count != 2 or out != 1 or into != 1:
            find(f"transfer {transfer_id}: entries do not balance or do not match the transfer")
    for column, text in ((tt.c.visit_id, "visit {}: credited more than once"),
                         (tt.c.reverses_id, "transfer {}: reversed more than once")):
        duplicates = select(column).where(column.is_not(None)).group_by(column).having(func.count() > 1)
        if after_entry:  # the new transfers' visits and reversals, against the whole ledger
            duplicates = duplicates.where(column.in_(select(column).where(tt.c.id.in_(new_transfers))))
        for value, in connection.execute(duplicates.order_by(column)):
            find(text.format(value))
    lonely = select(func.count()).select_from(tt).where(~exists().where(et.c.transfer_id == tt.c.id))
    if after_entry:  # transfers written since the checkpoint (ids after the last one it covers)
        covered = connection.execute(select(func.max(et.c.transfer_id)).where(et.c.id <= after_entry)).scalar()
        lonely = lonely.where(tt.c.id > (covered or 0))
    lonely = connection.execute(lonely).scalar_one()
    if lonely:
        find(f"{lonely} transfer(s) have no entries")


def _balance_findings(connection, find) -> int:
    """Every cached balance equal to the sum of its account's entries (summed by the database)."""
    et, at = Entry.__table__, Account.__table__
    sums = select(et.c.account_id, func.sum(et.c.amount).label("total")).group_by(et.c.account_id).subquery()
    total = func.coalesce(sums.c.total, 0)
    for account_id, balance, summed in connection.execute(
            select(at.c.id, at.c.balance, total).select_from(at.outerjoin(sums, sums.c.account_id == at.c.id))
            .where(at.c.balance != total).order_by(at.c.id)):
        find(f"account {account_id}: cached balance {balance} but its entries sum to {summed}")
    return connection.execute(select(func.count()).select_from(at)).scalar_one()


def check_ledger(connection, max_findings: int = 50, since: dict | None = None, workers: int = 1) -> CheckResult:
    """Verify the ledger: the keyed hash chain and its head, ids without gaps, every transfer written
    as exactly −amount from its source and +amount to its target, no visit or transfer credited or
    reversed twice, and every cached balance equal to the sum of its entries.

    `since` (a signed checkpoint, already checked against the ledger by `check_against_checkpoint`):
    the chain is re-verified only after it — the daily check; everything else is still checked, by
    the database. `workers` > 1 re-verifies the chain in that many processes, each chunk starting
    from the hash recorded in the entry before it.
    """
    find = _Findings(max_findings)
    head = connection.execute(select(LedgerHead.__table__.c.last_entry_id, LedgerHead.__table__.c.last_hash)
                              .where(LedgerHead.__table__.c.id == 1)).first()
    last_id = connection.execute(select(func.max(Entry.__table__.c.id))).scalar() or 0
    first, prev = 1, GENESIS_HASH
    if since is not None:
        first, prev = int(since["entry_id"]) + 1, str(since["hash"])
    checked = _Findings(max_findings)  # by the database, while the chain is hashed
    counted: dict = {}

    def database_checks() -> None:
        _transfer_findings(connection, checked, first - 1)
        counted["transfers"] = connection.execute(select(func.count()).select_from(Transfer.__table__)).scalar_one()
        counted["accounts"] = _balance_findings(connection, checked)

    chunks = _verify_chain(connection, first, max(last_id, first - 1), prev, max_findings, workers, database_checks)
    for chunk in chunks:
        find.merge(chunk["findings"], chunk["count"])
    entries = sum(chunk["entries"] for chunk in chunks)
    end_id, end_hash = chunks[-1]["last_id"], chunks[-1]["last_hash"]
    if head is not None and (head[0] != end_id or head[1] != end_hash):
        find(f"the chain ends at entry {end_id}, but the ledger head says {head[0]} (entries removed or added)")
    if head is None and (entries or last_id):
        find("the ledger head is missing")
    find.merge(checked.items, checked.count)
    return CheckResult(entries, counted["transfers"], counted["accounts"], find.items, find.count, since)


def latest_checkpoint(folder: Path) -> tuple[dict | None, str | None]:
    """The newest signed checkpoint in `folder` (the nightly job's files), or None and why not."""
    files = sorted(folder.glob("ledger-*.json")) if folder.is_dir() else []
    for path in reversed(files):
        raw = path.read_text(encoding="utf-8")
        checkpoint = read_checkpoint(raw)
        if checkpoint is not None:
            return checkpoint, str(path)
    return None, None


# ---------------------------------------------------------------- checkpoints outside the database

def _signature(entry_id: int, last_hash: str, at: str) -> str:
    return chain_hasher().hexdigest(f"linli-ledger-checkpoint|{entry_id}|{last_hash}|{at}".encode())


def make_checkpoint(connection, now: datetime) -> dict:
    """The ledger head, signed: the operator archives it (and the officer's report prints it) outside
    the database, so a later rewrite or a restored old backup no longer matches it."""
    head = connection.execute(select(LedgerHead.__table__.c.last_entry_id, LedgerHead.__table__.c.last_hash)
                              .where(LedgerHead.__table__.c.id == 1)).first()
    entry_id, last_hash = (head[0], head[1]) if head is not None else (0, GENESIS_HASH)
    at = now.isoformat()
    return {"entry_id": entry_id, "hash": last_hash, "at": at, "signature": _signature(entry_id, last_hash, at)}


def checkpoint_json(checkpoint: dict) -> str:
    return json.dumps(checkpoint, sort_keys=True)


def checkpoint_dir(instance_path: str | None = None) -> Path:
    """Where the nightly job writes the signed checkpoints (LINLI_CHECKPOINT_DIR, or the instance
    folder's ledger-checkpoints); the operator archives them elsewhere as well."""
    return Path(os.environ.get("LINLI_CHECKPOINT_DIR")
                or Path(instance_path or os.environ.get("LINLI_INSTANCE_PATH", "instance")) / "ledger-checkpoints")


def read_checkpoint(raw: str) -> dict | None:
    """A checkpoint whose signature holds (made with this LINLI_LEDGER_KEY), or None."""
    try:
        checkpoint = json.loads(raw)
        entry_id, last_hash, at = int(checkpoint["entry_id"]), str(checkpoint["hash"]), str(checkpoint["at"])
        signature = str(checkpoint["signature"])
    except (ValueError, KeyError, TypeError):
        return None
    if not hmac.compare_digest(signature, _signature(entry_id, last_hash, at)):
        return None
    return {"entry_id": entry_id, "hash": last_hash, "at": at, "signature": signature}


def check_against_checkpoint(connection, raw: str) -> list[str]:
    """What contradicts a signed checkpoint: a bad signature, a chain that ends before it (rolled
    back) or an entry at its position with another hash (history rewritten)."""
    try:
        checkpoint = json.loads(raw)
        entry_id, last_hash, at = int(checkpoint["entry_id"]), str(checkpoint["hash"]), str(checkpoint["at"])
        signature = str(checkpoint["signature"])
    except (ValueError, KeyError, TypeError):
        return ["the checkpoint file cannot be read"]
    if not hmac.compare_digest(signature, _signature(entry_id, last_hash, at)):
        return ["the checkpoint's signature does not match (forged, or signed with another LINLI_LEDGER_KEY)"]
    if entry_id == 0:
        return []
    head = connection.execute(select(LedgerHead.__table__.c.last_entry_id)
                              .where(LedgerHead.__table__.c.id == 1)).scalar()
    if head is None or head < entry_id:
        return [f"the ledger ends at entry {head or 0}, before the checkpoint of {at} (entry {entry_id}): "
                "rolled back to an older backup"]
    found = connection.execute(select(Entry.__table__.c.hash).where(Entry.__table__.c.id == entry_id)).scalar()
    if found != last_hash:
        return [f"entry {entry_id} differs from the checkpoint of {at}: history was rewritten"]
    return []
