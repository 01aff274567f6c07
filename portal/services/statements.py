"""Statements: a person's history and monthly statement, community totals, outstanding credit by age."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from portal.clock import local_tz
from portal.models import Account, ElderProfile, Entry, Person, Transfer, Visit, VolunteerProfile
from portal.services.people import age_on

AGE_BANDS = ((0, 39, "under 40"), (40, 59, "40–59"), (60, 69, "60–69"), (70, 79, "70–79"), (80, 200, "80+"))


@dataclass
class HistoryRow:
    transfer_id: int
    at: datetime
    kind: str
    minutes: int          # signed: + received, − given or spent
    elder_initial: str    # the visited elder's family name only
    verified_by: str
    counterpart: str
    reason: str | None
    reversed: bool
    balance_after: int


def initial(name: str | None) -> str:
    return f"{name[0]}*" if name else ""


def history(session: Session, person_id: int, start: datetime | None = None, end: datetime | None = None,
            account: tuple[int | None, int] | None = None) -> list[HistoryRow]:
    """The account's entries between `start` and `end` (all when not given), oldest first, with the
    balance after each. A fixed number of queries whatever the number of rows. `account`: the
    account's id and its opening balance at `start`, when the caller has read them already."""
    account_id, balance = account if account is not None else (
        session.scalar(select(Account.id).where(Account.key == f"person:{person_id}")), None)
    if account_id is None:
        return []
    # One statement: the entries, their transfers, whether each was reversed, and the visit's elder
    # and verifier by name (the names are all the statement shows of them).
    reversal, elder, verifier = aliased(Transfer), aliased(Person), aliased(Person)
    was_reversed = exists().where(reversal.reverses_id == Transfer.id)
    query = (select(Entry.amount, Transfer, was_reversed, Visit.id, Visit.elder_id, elder.name,
                    Visit.verified_by_id, verifier.name)
             .select_from(Transfer)
             .join(Entry, (Entry.transfer_id == Transfer.id) & (Entry.account_id == account_id))
             .outerjoin(Visit, Visit.id == Transfer.visit_id)
             .outerjoin(elder, elder.id == Visit.elder_id)
             .outerjoin(verifier, verifier.id == Visit.verified_by_id)
             .where(_of_account(account_id)).order_by(Entry.id))
    if start is None:
        balance = 0
    else:
        if balance is None:
            balance = opening_balance(session, account_id, start)
        query = query.where(Transfer.created_at >= start)
    if end is not None:
        query = query.where(Transfer.created_at < end)
    result = []
    for amount, transfer, reversed_, visit_id, elder_id, elder_name, verified_by_id, verifier_name in \
            session.execute(query):
        balance += amount
        other = transfer.from_account if amount > 0 else transfer.to_account
        counterpart = other.person.name if other.kind == "person" and other.person else other.kind
        verifier_text = ""
        if visit_id is not None and verified_by_id is not None:
            verifier_text = initial(verifier_name) if verified_by_id == elder_id else verifier_name
        result.append(HistoryRow(transfer.id, transfer.created_at, transfer.kind, amount,
                                 initial(elder_name) if visit_id is not None else "", verifier_text, counterpart,
                                 transfer.reason, bool(reversed_), balance))
    return result


def _of_account(account_id: int):
    """The account's transfers (either side): with the (account, created_at) indexes, a month of them
    is two index range scans, not the whole district's month."""
    return or_(Transfer.from_account_id == account_id, Transfer.to_account_id == account_id)


def opening_balance(session: Session, account_id: int, start: datetime) -> int:
    """The account's balance before `start`, from its entries: all of them less those since `start`
    (one statement; the entries since are found through the account's transfers since, by index)."""
    every = select(func.coalesce(func.sum(Entry.amount), 0)).where(Entry.account_id == account_id)
    since = (select(func.coalesce(func.sum(Entry.amount), 0)).join(Transfer, Transfer.id == Entry.transfer_id)
             .where(Entry.account_id == account_id, _of_account(account_id), Transfer.created_at >= start))
    return session.scalar(select(every.scalar_subquery() - since.scalar_subquery())) or 0


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=local_tz())
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=local_tz())
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


@dataclass
class Statement:
    year: int
    month: int
    opening: int
    rows: list[HistoryRow]
    closing: int
    earned: int
    given: int
    # minutes of this month's visits that were not credited, by reason (daily, yearly or storage cap)
    uncredited: dict[str, int]


def monthly_statement(session: Session, person_id: int, year: int, month: int) -> Statement:
    start, end = month_bounds(year, month)
    account_id = session.scalar(select(Account.id).where(Account.key == f"person:{person_id}"))
    opening = opening_balance(session, account_id, start) if account_id is not None else 0
    rows = history(session, person_id, start, end, account=(account_id, opening))
    closing = opening + sum(r.minutes for r in rows)
    earned = sum(r.minutes for r in rows if r.minutes > 0)
    uncredited = dict(session.execute(
        select(Visit.uncredited_reason, func.sum(Visit.uncredited_minutes))
        .where(Visit.volunteer_id == person_id, Visit.checked_in_at >= start, Visit.checked_in_at < end,
               Visit.uncredited_minutes > 0, Visit.uncredited_reason.is_not(None))
        .group_by(Visit.uncredited_reason)).all())
    return Statement(year, month, opening, rows, closing, earned, -sum(r.minutes for r in rows if r.minutes < 0),
                     uncredited)


def adjacent_months(year: int, month: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """The month before and the month after (year, month)."""
    before = (year - 1, 12) if month == 1 else (year, month - 1)
    after = (year + 1, 1) if month == 12 else (year, month + 1)
    return before, after


def community_totals(session: Session, community_ids: list[int]) -> list[dict]:
    """Per community: minted, reversed, held by people, in the donation pool, minutes not credited."""
    totals = []
    for community_id in community_ids:
        issuance = session.scalar(select(Account).where(Account.key == f"issuance:{community_id}"))
        pool = session.scalar(select(Account).where(Account.key == f"pool:{community_id}"))
        minted = reversed_ = 0
        if issuance is not None:
            minted = session.scalar(select(func.coalesce(func.sum(Transfer.amount), 0))
                                    .where(Transfer.from_account_id == issuance.id, Transfer.kind == "mint")) or 0
            reversed_ = session.scalar(select(func.coalesce(func.sum(Transfer.amount), 0))
                                       .where(Transfer.to_account_id == issuance.id,
                                              Transfer.kind == "reversal")) or 0
        held = session.scalar(select(func.coalesce(func.sum(Account.balance), 0))
                              .where(Account.kind == "person", Account.community_id == community_id)) or 0
        verified = session.scalar(select(func.count(Visit.id)).where(Visit.community_id == community_id,
                                                                    Visit.status == "verified")) or 0
        uncredited = session.scalar(select(func.coalesce(func.sum(Visit.uncredited_minutes), 0))
                                    .where(Visit.community_id == community_id)) or 0
        totals.append({"community_id": community_id, "minted": minted, "reversed": reversed_,
                       "outstanding": minted - reversed_, "held": held,
                       "pool": pool.balance if pool is not None else 0,
                       "verified_visits": verified, "uncredited": uncredited})
    return totals


def outstanding_by_age_band(session: Session, community_ids: list[int], today: date) -> list[dict]:
    """What the communities owe: positive balances of people, by the holder's age band."""
    rows = session.execute(
        select(Account.person_id, Account.balance, ElderProfile.birth_date, VolunteerProfile.birth_date)
        .outerjoin(ElderProfile, ElderProfile.person_id == Account.person_id)
        .outerjoin(VolunteerProfile, VolunteerProfile.person_id == Account.person_id)
        .where(Account.kind == "person", Account.community_id.in_(community_ids or [-1]), Account.balance > 0)
    ).all()
    bands = {label: {"band": label, "holders": 0, "minutes": 0} for *_ignored, label in AGE_BANDS}
    bands["unknown"] = {"band": "unknown", "holders": 0, "minutes": 0}
    for _person_id, balance, elder_birth, volunteer_birth in rows:
        birth = elder_birth or volunteer_birth
        label = "unknown"
        if birth is not None:
            age = age_on(birth, today)
            label = next(name for low, high, name in AGE_BANDS if low <= age <= high)
        bands[label]["holders"] += 1
        bands[label]["minutes"] += balance
    return list(bands.values())
