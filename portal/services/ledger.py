"""The time bank (时间银行): an append-only, double-entry ledger of whole minutes.

Every transfer moves a positive whole number of minutes from one account to another and is
written as two entries (−amount, +amount). Entries form a hash chain: each carries the hash of
its own content and of the entry before it, so a changed, removed or inserted row is detectable.
Appends take the ledger head's row lock first, so they are serial on every database.

Just over 400 lines: accounts and posting, then the time-bank operations (credit, gift, pay,
reverse) that post through them; the operations are the seam to split along.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from portal.clock import local_tz
from portal.i18n import _l
from portal.models import (
    Account,
    ElderProfile,
    Entry,
    FamilyLink,
    LedgerHead,
    Person,
    Transfer,
    Visit,
    VolunteerProfile,
)
from portal.models.ledger import GENESIS_HASH
from portal.policy import policy
from portal.services import DomainError
from portal.services.people import age_on, clean_text

MAX_AMOUNT = 100_000  # minutes; far above any real transfer, so a typo of extra zeros is refused
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class LedgerError(DomainError):
    pass


# ---------------------------------------------------------------- amounts and accounts

def parse_minutes(raw, field: str = "amount") -> int:
    """A positive whole number of minutes from a form or a caller; anything else is refused."""
    if isinstance(raw, bool):
        raise LedgerError(_l("Please enter a whole number of minutes."), field=field)
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and raw.strip().isdigit() and raw.strip().isascii():
        value = int(raw.strip())
    else:
        raise LedgerError(_l("Please enter a whole number of minutes."), field=field)
    if value <= 0:
        raise LedgerError(_l("The number of minutes must be more than zero."), field=field)
    if value > MAX_AMOUNT:
        raise LedgerError(_l("That is more minutes than can be moved at once (at most %(max)s).",
                             max=MAX_AMOUNT), field=field)
    return value


def person_community_id(session: Session, person_id: int) -> int | None:
    volunteer = session.get(VolunteerProfile, person_id)
    if volunteer is not None:
        return volunteer.community_id
    elder = session.get(ElderProfile, person_id)
    return elder.community_id if elder is not None else None


def person_birth_date(session: Session, person_id: int) -> date | None:
    elder = session.get(ElderProfile, person_id)
    if elder is not None:
        return elder.birth_date
    volunteer = session.get(VolunteerProfile, person_id)
    return volunteer.birth_date if volunteer is not None else None


def _get_or_create(session: Session, key: str, **values) -> Account:
    account = session.scalar(select(Account).where(Account.key == key))
    if account is None:
        account = Account(key=key, balance=0, **values)
        session.add(account)
        session.flush()
    return account


def person_account(session: Session, person_id: int) -> Account:
    return _get_or_create(session, f"person:{person_id}", kind="person", person_id=person_id,
                          community_id=person_community_id(session, person_id))


def issuance_account(session: Session, community_id: int) -> Account:
    return _get_or_create(session, f"issuance:{community_id}", kind="issuance", community_id=community_id)


def pool_account(session: Session, community_id: int) -> Account:
    return _get_or_create(session, f"pool:{community_id}", kind="donation_pool", community_id=community_id)


def balance_of(session: Session, person_id: int) -> int:
    """A person's balance, from the entries themselves (the cache is only a cache)."""
    return session.scalar(
        select(func.coalesce(func.sum(Entry.amount), 0))
        .join(Account, Account.id == Entry.account_id)
        .where(Account.key == f"person:{person_id}")
    ) or 0


# ---------------------------------------------------------------- the chain

def created_us(moment: datetime) -> int:
    return (moment.astimezone(timezone.utc) - EPOCH) // timedelta(microseconds=1)


# The chain is an HMAC keyed with LINLI_LEDGER_KEY, which lives outside the database: someone who
# can write the database but does not hold the key cannot recompute a chain that `ledger check`
# accepts. The development key below is for the demo and tests; production refuses to start
# without a key of its own (portal/production.py).
DEVELOPMENT_LEDGER_KEY = "linli-development-ledger-key-not-secret"


class ChainKey:
    """HMAC-SHA256 (RFC 2104) with the key's inner and outer states computed once, so each entry
    costs two SHA-256 state copies: `ledger check` stays about as fast as with a plain SHA-256."""

    def __init__(self, key: str):
        raw = key.encode()
        if len(raw) > 64:
            raw = hashlib.sha256(raw).digest()
        raw = raw.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in raw))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in raw))

    def hexdigest(self, content: bytes) -> str:
        inner = self._inner.copy()
        inner.update(content)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


_chain = ChainKey(DEVELOPMENT_LEDGER_KEY)


def set_ledger_key(key: str | None) -> None:
    """Key the chain (called once at start-up from LINLI_LEDGER_KEY)."""
    global _chain
    _chain = ChainKey(key or DEVELOPMENT_LEDGER_KEY)


def chain_hasher() -> ChainKey:
    return _chain


def entry_digest(content: str) -> str:
    return _chain.hexdigest(content.encode())


def entry_hash(prev_hash: str, entry_id: int, transfer_id: int, kind: str, account_id: int, amount: int,
               visit_id: int | None, reverses_id: int | None, created_us: int) -> str:
    return entry_digest(f"{prev_hash}|{entry_id}|{transfer_id}|{kind}|{account_id}|{amount}|"
                        f"{visit_id or ''}|{reverses_id or ''}|{created_us}")


def _lock_head(session: Session) -> LedgerHead:
    """Take the ledger head's row lock (waits for any other append to commit) and read it fresh."""
    bumped = session.execute(
        update(LedgerHead).where(LedgerHead.id == 1).values(version=LedgerHead.version + 1)
    ).rowcount
    if not bumped:
        from sqlalchemy.exc import IntegrityError

        try:
            with session.begin_nested():
                session.add(LedgerHead(id=1, last_entry_id=0, last_hash=GENESIS_HASH, version=1))
        except IntegrityError:
            session.execute(update(LedgerHead).where(LedgerHead.id == 1).values(version=LedgerHead.version + 1))
    return session.execute(
        select(LedgerHead).where(LedgerHead.id == 1).execution_options(populate_existing=True)
    ).scalar_one()


def _fresh_balance(session: Session, account: Account) -> int:
    return session.scalar(select(Account.balance).where(Account.id == account.id))


def _post(session: Session, head: LedgerHead, kind: str, source: Account, target: Account, amount: int,
          now: datetime, *, visit_id: int | None = None, reverses_id: int | None = None,
          reason: str | None = None, by_id: int | None = None) -> Transfer:
    """Append one transfer and its two entries. The caller holds the head lock and has validated."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise LedgerError(_l("The number of minutes must be more than zero."), field="amount")
    if source.id == target.id:
        raise LedgerError(_l("Minutes cannot be moved to the same account."))
    transfer = Transfer(kind=kind, amount=amount, from_account_id=source.id, to_account_id=target.id,
                        visit_id=visit_id, reverses_id=reverses_id, reason=reason, created_by_id=by_id,
                        created_at=now)
    session.add(transfer)
    session.flush()
    created_micros = created_us(now)
    prev = head.last_hash
    next_id = head.last_entry_id
    for account, signed in ((source, -amount), (target, amount)):
        next_id += 1
        digest = entry_hash(prev, next_id, transfer.id, kind, account.id, signed, visit_id, reverses_id,
                            created_micros)
        session.add(Entry(id=next_id, transfer_id=transfer.id, account_id=account.id, amount=signed,
                          prev_hash=prev, hash=digest))
        prev = digest
        session.execute(update(Account).where(Account.id == account.id)
                        .values(balance=Account.balance + signed))
    head.last_entry_id, head.last_hash = next_id, prev
    session.flush()
    session.expire(source, ["balance"])
    session.expire(target, ["balance"])
    return transfer


# ---------------------------------------------------------------- crediting a verified visit

def service_weight(service_type: str) -> Fraction:
    services = policy()["services"]
    weight = services.get(service_type, services.get("visit", {"weight": 1.0}))["weight"]
    return Fraction(str(weight))


def _local_bounds(moment: datetime, unit: str) -> tuple[datetime, datetime]:
    local = moment.astimezone(local_tz())
    if unit == "day":
        start = datetime(local.year, local.month, local.day, tzinfo=local_tz())
        end = start + timedelta(days=1)
    else:
        start = datetime(local.year, 1, 1, tzinfo=local_tz())
        end = datetime(local.year + 1, 1, 1, tzinfo=local_tz())
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def _credited_between(session: Session, volunteer_id: int, start: datetime, end: datetime) -> int:
    """Minutes credited for this volunteer's visits checked in within [start, end), net of reversals."""
    reversal = aliased(Transfer)
    return session.scalar(
        select(func.coalesce(func.sum(Transfer.amount), 0))
        .join(Visit, Visit.id == Transfer.visit_id)
        .where(Visit.volunteer_id == volunteer_id, Visit.checked_in_at >= start, Visit.checked_in_at < end,
               ~exists().where(reversal.reverses_id == Transfer.id))
    ) or 0


def credit_visit(session: Session, visit: Visit, now: datetime) -> Transfer | None:
    """Credit a verified visit once: minutes × the service weight, within the daily and yearly caps.

    Paid by the elder's side when a payer chose to pay with credits and can; otherwise minted
    from the community's issuance account. What exceeds a cap is recorded as not credited.
    """
    head = _lock_head(session)
    if session.scalar(select(Transfer.id).where(Transfer.visit_id == visit.id)) is not None:
        return None  # credited before; the unique constraint would refuse it anyway
    value = int((visit.duration_minutes or 0) * service_weight(visit.service_type))
    rules = policy()["time_bank"]
    day_start, day_end = _local_bounds(visit.checked_in_at, "day")
    year_start, year_end = _local_bounds(visit.checked_in_at, "year")
    day_room = max(rules["daily_cap_minutes"] - _credited_between(session, visit.volunteer_id, day_start, day_end), 0)
    year_room = max(rules["yearly_cap_minutes"]
                    - _credited_between(session, visit.volunteer_id, year_start, year_end), 0)
    # a balance is not stored above the cap (the Nanjing scheme: 1,500 hours); the rest is not minted
    storage_room = max(rules.get("storage_cap_minutes", 90_000) - balance_of(session, visit.volunteer_id), 0)
    credited = min(value, day_room, year_room, storage_room)
    visit.credited_minutes = credited
    visit.uncredited_minutes = value - credited
    visit.uncredited_reason = None
    if value - credited > 0:
        visit.uncredited_reason = min((day_room, "daily_cap"), (year_room, "yearly_cap"),
                                      (storage_room, "storage_cap"))[1]
    if credited <= 0:
        session.flush()
        return None
    volunteer_account = person_account(session, visit.volunteer_id)
    if visit.paid_by_id is not None:
        payer_account = person_account(session, visit.paid_by_id)
        if _fresh_balance(session, payer_account) >= credited:
            return _post(session, head, "spend", payer_account, volunteer_account, credited, now,
                         visit_id=visit.id, by_id=visit.paid_by_id)
        visit.paid_by_id = None  # the payer's balance no longer covers it: the community pays
    return _post(session, head, "mint", issuance_account(session, visit.community_id), volunteer_account,
                 credited, now, visit_id=visit.id, by_id=visit.verified_by_id)


# ---------------------------------------------------------------- gifts (转赠)

@dataclass
class GiftPlan:
    giver_id: int
    recipient_id: int | None  # None: the donation pool
    recipient_name: str
    amount: int
    balance_after: int


def are_relatives(session: Session, a: int, b: int) -> bool:
    return session.scalar(
        select(FamilyLink.id).where(
            FamilyLink.status == "approved",
            or_(and_(FamilyLink.family_id == a, FamilyLink.elder_id == b),
                and_(FamilyLink.family_id == b, FamilyLink.elder_id == a)),
        ).limit(1)
    ) is not None


def relatives_of(session: Session, person_id: int) -> list[Person]:
    links = session.scalars(
        select(FamilyLink).where(FamilyLink.status == "approved",
                                 or_(FamilyLink.family_id == person_id, FamilyLink.elder_id == person_id))
    ).all()
    return [link.elder if link.family_id == person_id else link.family for link in links]


def plan_gift(session: Session, giver: Person, recipient: str, raw_amount) -> GiftPlan:
    """Check a gift without writing anything. `recipient` is "pool" or a person's id as text."""
    amount = parse_minutes(raw_amount)
    allowed = policy()["time_bank"]["gift_to"]
    if recipient == "pool":
        if "donation_pool" not in allowed:
            raise LedgerError(_l("Gifts to the donation pool are not possible here."), field="recipient")
        if person_community_id(session, giver.id) is None:
            raise LedgerError(_l("You are not registered in a community yet."), field="recipient")
        recipient_id, name = None, str(_l("the community donation pool"))
    else:
        if not str(recipient).isdigit():
            raise LedgerError(_l("Please choose who receives the minutes."), field="recipient")
        recipient_id = int(recipient)
        if recipient_id == giver.id:
            raise LedgerError(_l("You cannot give minutes to yourself."), field="recipient")
        person = session.get(Person, recipient_id)
        if person is None or "relative" not in allowed or not are_relatives(session, giver.id, recipient_id):
            raise LedgerError(_l("Minutes can only be given to an approved relative or the donation pool."),
                              field="recipient")
        name = person.name
    balance = balance_of(session, giver.id)
    if amount > balance:
        raise LedgerError(_l("You have %(balance)s minutes; you cannot give %(amount)s.",
                             balance=balance, amount=amount), field="amount")
    return GiftPlan(giver.id, recipient_id, name, amount, balance - amount)


def give(session: Session, giver: Person, recipient: str, raw_amount, now: datetime) -> Transfer:
    """Give minutes (after the giver confirmed the plan). Checked again under the ledger lock."""
    plan_gift(session, giver, recipient, raw_amount)
    head = _lock_head(session)
    plan = plan_gift(session, giver, recipient, raw_amount)
    source = person_account(session, giver.id)
    if _fresh_balance(session, source) < plan.amount:
        raise LedgerError(_l("You do not have enough minutes."), field="amount")
    if plan.recipient_id is None:
        target = pool_account(session, person_community_id(session, giver.id))
    else:
        target = person_account(session, plan.recipient_id)
    return _post(session, head, "gift", source, target, plan.amount, now, by_id=giver.id)


# ---------------------------------------------------------------- spending

def holds_allocation(session: Session, person_id: int) -> bool:
    """The community pool gave this elder minutes (a worker's allocation): she may spend them on her care."""
    return session.scalar(
        select(Transfer.id).join(Account, Account.id == Transfer.to_account_id)
        .where(Transfer.kind == "allocation", Account.key == f"person:{person_id}").limit(1)) is not None


def can_pay_for(session: Session, payer: Person, elder_id: int, today: date) -> bool:
    """A person of redemption age (or holding minutes the community pool allocated to her) pays for
    her own care; anyone pays for a linked relative's."""
    if payer.id == elder_id:
        birth = person_birth_date(session, payer.id)
        return (birth is not None and age_on(birth, today) >= policy()["time_bank"]["redemption_age"]) \
            or holds_allocation(session, payer.id)
    return are_relatives(session, payer.id, elder_id)


def choose_to_pay(session: Session, payer: Person, visit: Visit, now: datetime) -> None:
    """The payer pays this visit with credits: at verification the volunteer is credited from them."""
    if visit.status in ("verified", "disputed") or visit.verified_at is not None:
        raise LedgerError(_l("This visit is already settled."))
    if visit.volunteer_id == payer.id:
        raise LedgerError(_l("You cannot pay yourself."))
    if not can_pay_for(session, payer, visit.elder_id, now.astimezone(local_tz()).date()):
        age = policy()["time_bank"]["redemption_age"]
        raise LedgerError(_l("Credits can pay for your own care from age %(age)s, or for an approved relative.",
                             age=age))
    estimate = int((visit.duration_minutes or 0) * service_weight(visit.service_type))
    balance = balance_of(session, payer.id)
    if estimate <= 0:
        raise LedgerError(_l("This visit has no minutes to pay for yet."))
    if estimate > balance:
        raise LedgerError(_l("You have %(balance)s minutes; you cannot spend %(amount)s.",
                             balance=balance, amount=estimate), field="amount")
    visit.paid_by_id = payer.id
    session.flush()


# ---------------------------------------------------------------- corrections

def reverse(session: Session, worker: Person, transfer_id: int, raw_reason: str, now: datetime) -> Transfer:
    """Undo a transfer with a reversing one (never an edit). Only a worker, with a reason."""
    reason = clean_text(raw_reason, "reason", 200)
    original = session.get(Transfer, transfer_id)
    if original is None:
        raise LedgerError(_l("There is no such transfer."))
    if original.kind == "reversal":
        raise LedgerError(_l("A correction cannot itself be reversed; make a new transfer instead."))
    involved = {original.from_account.person_id, original.to_account.person_id}
    if worker.id in involved:
        raise LedgerError(_l("You cannot correct a transfer of your own minutes."))
    head = _lock_head(session)
    if session.scalar(select(Transfer.id).where(Transfer.reverses_id == original.id)) is not None:
        raise LedgerError(_l("This transfer has already been reversed."))
    holder = original.to_account
    if holder.kind != "issuance" and _fresh_balance(session, holder) < original.amount:
        raise LedgerError(_l("The minutes were already given or spent; reverse those transfers first."))
    return _post(session, head, "reversal", holder, original.from_account, original.amount, now,
                 reverses_id=original.id, reason=reason, by_id=worker.id)
