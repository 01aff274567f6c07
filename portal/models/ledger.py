"""The time bank: accounts and an append-only, double-entry, hash-chained ledger in whole minutes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.db import Base, utcnow
from portal.models.people import Person
from portal.types import UTCDateTime

ACCOUNT_KINDS = ("person", "issuance", "donation_pool")
# allocation: a worker gives minutes from the community donation pool to a special-hardship elder
TRANSFER_KINDS = ("mint", "gift", "spend", "reversal", "allocation")
GENESIS_HASH = "0" * 64


class Account(Base):
    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "person:<id>", "issuance:<community id>", "pool:<community id>"
    key: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), unique=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    # A cache of the sum of this account's entries; `linli ledger check` proves it.
    balance: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person | None] = relationship(lazy="joined")


class Transfer(Base):
    __tablename__ = "ledger_transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("from_account_id <> to_account_id", name="two_accounts"),
        # an account's transfers of a month (its statement) are two index range scans
        Index("ix_ledger_transfers_from_account_created", "from_account_id", "created_at"),
        Index("ix_ledger_transfers_to_account_created", "to_account_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Integer)
    from_account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    to_account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    # A visit is credited once, whoever pays: the database refuses a second credit.
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), unique=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transfers.id"), unique=True)
    reason: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    from_account: Mapped[Account] = relationship(foreign_keys=[from_account_id], lazy="joined")
    to_account: Mapped[Account] = relationship(foreign_keys=[to_account_id], lazy="joined")


class Entry(Base):
    """One side of a transfer. `id` is the position in the chain (1, 2, 3 …), given by the ledger head."""

    __tablename__ = "ledger_entries"
    # An account's entries (its statement), and with the amount in the index the sum of every
    # account's entries (`ledger check`, a balance) is read from the index alone, without visiting the rows.
    __table_args__ = (Index("ix_ledger_entries_account_amount", "account_id", "amount"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("ledger_transfers.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class LedgerHead(Base):
    """One row: the end of the chain. Every append locks it first, so appends are serial."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_entry_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
    version: Mapped[int] = mapped_column(Integer, default=0)


class AppendOnlyError(RuntimeError):
    """Ledger transfers and entries are never changed or deleted; undo with a reversing transfer."""


_APPEND_ONLY_TABLES = {"ledger_transfers", "ledger_entries"}


@event.listens_for(Session, "before_flush")
def _refuse_changes(session, _context, _instances):
    for obj in session.deleted:
        if isinstance(obj, (Transfer, Entry)):
            raise AppendOnlyError("ledger rows cannot be deleted")
    for obj in session.dirty:
        if isinstance(obj, (Transfer, Entry)) and session.is_modified(obj, include_collections=False):
            raise AppendOnlyError("ledger rows cannot be changed")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state):
    if state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in _APPEND_ONLY_TABLES:
            raise AppendOnlyError("ledger rows cannot be changed or deleted")
