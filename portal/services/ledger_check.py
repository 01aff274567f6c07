"""Checking the whole time-bank ledger: one streamed pass that re-verifies the hash chain, the
double entries and every cached balance (`linli ledger check`)."""
from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

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

    @property
    def ok(self) -> bool:
        return self.finding_count == 0

    def summary(self) -> str:
        state = "ok" if self.ok else f"{self.finding_count} problem(s)"
        return (f"ledger {state}: {self.entries} entries, {self.transfers} transfers, "
                f"{self.accounts} accounts; chain intact" if self.ok else
                f"ledger {state}: {self.entries} entries, {self.transfers} transfers, {self.accounts} accounts")


def check_ledger(connection, max_findings: int = 50) -> CheckResult:
    """One streamed pass over the entries (in chain order) with their transfers.

    Checks: the hash chain and its head, ids without gaps, every transfer written as exactly
    −amount from its source and +amount to its target, no visit or transfer credited or reversed
    twice, and every cached balance equal to the sum of its entries.
    """
    findings: list[str] = []
    count = 0

    def find(text: str) -> None:
        nonlocal count
        count += 1
        if len(findings) < max_findings:
            findings.append(text)

    et, tt = Entry.__table__, Transfer.__table__
    query = (
        select(et.c.id, et.c.transfer_id, et.c.account_id, et.c.amount, et.c.prev_hash, et.c.hash,
               tt.c.kind, tt.c.amount, tt.c.from_account_id, tt.c.to_account_id, tt.c.visit_id,
               tt.c.reverses_id, tt.c.created_at)
        .select_from(et.outerjoin(tt, tt.c.id == et.c.transfer_id))
        .order_by(et.c.id)
    )
    sums: dict[int, int] = {}
    seen_transfers: set[int] = set()
    seen_visits: set[int] = set()
    seen_reversed: set[int] = set()
    prev = GENESIS_HASH
    expected_id = 0
    keyed = chain_hasher().hexdigest
    entries = 0
    # The transfer being read: its id, and what its entries must look like.
    current = None
    tail = kind = ""
    sides: set = set()
    matched = 0

    def close() -> None:
        if current is not None and (matched != 2 or sides):
            find(f"transfer {current}: entries do not balance or do not match the transfer")

    result = connection.execute(query, execution_options={"stream_results": True, "yield_per": 20_000})
    for entry_id, transfer_id, account_id, amount, prev_hash, digest, t_kind, t_amount, source, target, \
            visit_id, reverses_id, created in result:
        entries += 1
        expected_id += 1
        if entry_id != expected_id:
            find(f"entry {entry_id}: expected entry {expected_id} (a row is missing or inserted)")
            expected_id = entry_id
        if transfer_id != current:
            close()
            current, matched = transfer_id, 0
            if transfer_id in seen_transfers:
                find(f"transfer {transfer_id}: entries are not together in the chain")
            seen_transfers.add(transfer_id)
            if t_amount is None:
                find(f"transfer {transfer_id}: entries without a transfer")
                sides, kind, tail = set(), "", ""
            else:
                if t_amount <= 0:
                    find(f"transfer {transfer_id}: amount {t_amount} is not positive")
                sides = {(source, -t_amount), (target, t_amount)}
                kind = t_kind
                tail = f"|{visit_id or ''}|{reverses_id or ''}|{created_us(created) if created else 0}"
                if visit_id is not None:
                    if visit_id in seen_visits:
                        find(f"visit {visit_id}: credited more than once")
                    seen_visits.add(visit_id)
                if reverses_id is not None:
                    if reverses_id in seen_reversed:
                        find(f"transfer {reverses_id}: reversed more than once")
                    seen_reversed.add(reverses_id)
        matched += 1
        sides.discard((account_id, amount))
        if prev_hash != prev:
            find(f"entry {entry_id}: does not follow the entry before it (chain broken)")
        if keyed(f"{prev_hash}|{entry_id}|{transfer_id}|{kind}|{account_id}|{amount}{tail}".encode()) != digest:
            find(f"entry {entry_id}: its content does not match its hash (changed after it was written)")
        prev = digest
        sums[account_id] = sums.get(account_id, 0) + amount
    close()

    head = connection.execute(select(LedgerHead.__table__.c.last_entry_id, LedgerHead.__table__.c.last_hash)
                              .where(LedgerHead.__table__.c.id == 1)).first()
    if head is not None and (head[0] != expected_id or head[1] != prev):
        find(f"the chain ends at entry {expected_id}, but the ledger head says {head[0]} (entries removed or added)")
    if head is None and entries:
        find("the ledger head is missing")
    transfers = connection.execute(select(func.count()).select_from(tt)).scalar_one()
    if transfers != len(seen_transfers):
        find(f"{transfers - len(seen_transfers)} transfer(s) have no entries")
    accounts = 0
    for account_id, balance in connection.execute(select(Account.__table__.c.id, Account.__table__.c.balance)):
        accounts += 1
        if balance != sums.get(account_id, 0):
            find(f"account {account_id}: cached balance {balance} but its entries sum to {sums.get(account_id, 0)}")
    return CheckResult(entries, transfers, accounts, findings, count)


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
