"""Spending the time bank: paying for a requested service with minutes, and the community donation
pool that a worker allocates to special-hardship elders of her own community.

The ledger rules stay in services/ledger.py (append-only, double-entry, whole minutes, hash chain);
this module decides who may spend and on what, and posts through the ledger's own head lock.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from portal.i18n import _l
from portal.models import Account, Area, ElderProfile, Person, ServiceRequest, Transfer
from portal.policy import policy
from portal.services import ledger
from portal.services.ledger import LedgerError
from portal.services.people import clean_text
from portal.services.scope import staff_community_ids

# the elders a worker may allocate pool minutes to: those the monthly visits are for (特殊困难老年人)
POOL_TIERS = ("high_risk", "special_hardship")


# ---------------------------------------------------------------- paying for a request

def spendable_balance(session: Session, payer: Person, elder_id: int, today: date) -> int:
    """What `payer` can put towards a service for `elder_id`: her balance when she may pay, else 0."""
    if not ledger.can_pay_for(session, payer, elder_id, today):
        return 0
    return ledger.balance_of(session, payer.id)


def check_payer(session: Session, payer: Person, elder_id: int, today: date) -> int:
    """Refuse a payer who cannot pay (with the reason); her balance otherwise."""
    if not ledger.can_pay_for(session, payer, elder_id, today):
        raise LedgerError(_l("Credits can pay for your own care from age %(age)s, or for an approved relative.",
                             age=policy()["time_bank"]["redemption_age"]), field="pay")
    balance = ledger.balance_of(session, payer.id)
    if balance <= 0:
        raise LedgerError(_l("You have no minutes to pay with."), field="pay")
    return balance


def pay_request_with_minutes(session: Session, payer: Person, request: ServiceRequest, today: date) -> None:
    """The payer chose to pay this request with minutes. The visit that serves it carries the choice,
    and the volunteer is credited from the payer when the elder confirms (services/ledger.credit_visit);
    when the balance no longer covers the visit then, the community pays as usual."""
    check_payer(session, payer, request.elder_id, today)
    request.paid_by_id = payer.id
    session.flush()


# ---------------------------------------------------------------- the community donation pool

def pool_elders(session: Session, community_ids: list[int]) -> list[ElderProfile]:
    """Special-hardship elders of these communities: who may receive minutes from the pool."""
    return list(session.scalars(
        select(ElderProfile).join(Person, Person.id == ElderProfile.person_id)
        .where(ElderProfile.community_id.in_(community_ids or [-1]), ElderProfile.care_tier.in_(POOL_TIERS),
               Person.active)
        .order_by(Person.name, Person.id)))


def allocate(session: Session, worker: Person, elder_id: int, raw_amount, raw_reason: str | None,
             now: datetime) -> Transfer:
    """A worker gives minutes from her community's donation pool to a special-hardship elder of that
    community. An elder outside her communities is refused as if she did not exist."""
    elder = session.get(ElderProfile, elder_id) if isinstance(elder_id, int) else None
    if elder is None or elder.community_id not in staff_community_ids(session, worker):
        raise LookupError(elder_id)
    if elder.care_tier not in POOL_TIERS:
        raise LedgerError(_l("Pool minutes go to special-hardship elders only."), field="elder")
    amount = ledger.parse_minutes(raw_amount)
    reason = clean_text(raw_reason, "reason", 200) if raw_reason and raw_reason.strip() else None
    head = ledger._lock_head(session)
    pool = ledger.pool_account(session, elder.community_id)
    available = ledger._fresh_balance(session, pool)
    if amount > available:
        raise LedgerError(_l("The pool holds %(balance)s minutes; you cannot allocate %(amount)s.",
                             balance=available, amount=amount), field="amount")
    target = ledger.person_account(session, elder.person_id)
    return ledger._post(session, head, "allocation", pool, target, amount, now, reason=reason, by_id=worker.id)


@dataclass
class Allocation:
    at: datetime
    elder_name: str
    minutes: int
    by_name: str
    reason: str | None


@dataclass
class PoolView:
    community_id: int
    community_name: str
    balance: int
    donated: int
    allocated: int
    allocations: list[Allocation]


def pool_overview(session: Session, community_ids: list[int], limit: int = 50) -> list[PoolView]:
    """Per community: the pool's balance, what was given to it and allocated from it, the latest
    allocations (to whom, by whom)."""
    views = []
    names = dict(session.execute(select(Area.id, Area.name).where(Area.id.in_(community_ids or [-1]))).all())
    for community_id in community_ids:
        pool = session.scalar(select(Account).where(Account.key == f"pool:{community_id}"))
        balance = donated = allocated = 0
        rows: list[Allocation] = []
        if pool is not None:
            balance = pool.balance
            donated = session.scalar(select(func.coalesce(func.sum(Transfer.amount), 0))
                                     .where(Transfer.to_account_id == pool.id, Transfer.kind == "gift")) or 0
            allocated = session.scalar(select(func.coalesce(func.sum(Transfer.amount), 0))
                                       .where(Transfer.from_account_id == pool.id,
                                              Transfer.kind == "allocation")) or 0
            target = aliased(Account)
            by = aliased(Person)
            for transfer, elder_name, by_name in session.execute(
                    select(Transfer, Person.name, by.name)
                    .join(target, target.id == Transfer.to_account_id)
                    .join(Person, Person.id == target.person_id)
                    .outerjoin(by, by.id == Transfer.created_by_id)
                    .where(Transfer.from_account_id == pool.id, Transfer.kind == "allocation")
                    .order_by(Transfer.id.desc()).limit(limit)):
                rows.append(Allocation(transfer.created_at, elder_name, transfer.amount, by_name or "",
                                       transfer.reason))
        views.append(PoolView(community_id, names.get(community_id, ""), balance, donated, allocated, rows))
    return views
