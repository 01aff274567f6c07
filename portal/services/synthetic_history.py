"""Two years of history for a synthetic district: obligations, visits, the time-bank ledger, snapshots.

Called by `seed_district` after the people exist. Everything is computed in Python and written in
bulk (COPY on PostgreSQL, executemany on SQLite); nothing goes through the ORM's unit of work.

- Every closed period of the last two years (weekly for high risk, monthly for special hardship,
  quarterly for general) has an obligation per elder: done (satisfied by a verified visit),
  missed, or now and then excused. Each community has its own completion rate.
- Each done obligation has a verified visit inside its window (daytime, local time); about one in
  eight has a second visit. Visitors are the paired volunteer, else a community volunteer.
- Each verified visit is credited like `credit_visit` does: minutes × the service weight, within
  the daily and yearly caps, minted from the community's issuance account. Entries are hashed
  exactly as `portal.services.ledger.entry_hash`, continuing the chain from the ledger head;
  cached balances are the sums. `linli ledger check` passes on the result.
- Closed periods get their snapshots (community, street, district), as `close_periods` writes them.
- A few open service requests per community.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from portal.models import (
    Account,
    Area,
    ComplianceSnapshot,
    ElderVisitStat,
    Entry,
    LedgerHead,
    ServiceRequest,
    Transfer,
    Visit,
    VisitObligation,
)
from portal.models.ledger import GENESIS_HASH
from portal.policy import policy
from portal.services.compliance import local_date, local_midnight, window_for
from portal.services.ledger import chain_hasher, service_weight
from portal.services.synthetic import json_text

YEARS = 2
DONE_RATE = (0.86, 0.99)        # each community's completion rate lies in this range
EXCUSED_RATE = 0.004
SECOND_VISIT_RATE = 0.125
REQUESTS_PER_COMMUNITY = 1.5

VISIT_COLUMNS = ("id", "volunteer_id", "elder_id", "community_id", "service_type", "checked_in_at",
                 "checked_out_at", "method", "check_out_method", "duration_minutes", "flags", "status",
                 "counts_for_compliance", "needs_worker", "confirmation_asked_at", "elder_confirmed_at",
                 "verified_at", "verified_by_id", "verification_method", "credited_minutes",
                 "uncredited_minutes", "uncredited_reason", "created_at")
OBLIGATION_COLUMNS = ("id", "elder_id", "period", "cadence", "tier", "community_id", "window_start", "due_at",
                      "window_end", "status", "excuse_reason", "assigned_to_id", "assigned_role",
                      "satisfied_by_visit_id", "done_at", "created_at", "updated_at")
ACCOUNT_COLUMNS = ("id", "key", "kind", "person_id", "community_id", "balance", "created_at")
TRANSFER_COLUMNS = ("id", "kind", "amount", "from_account_id", "to_account_id", "visit_id", "created_by_id",
                    "created_at")
ENTRY_COLUMNS = ("id", "transfer_id", "account_id", "amount", "prev_hash", "hash")
STAT_COLUMNS = ("elder_id", "last_visit_at", "last_visit_id")
SNAPSHOT_COLUMNS = ("period", "area_id", "area_level", "area_name", "parent_name", "area_path", "total", "due",
                    "done", "missed", "excused", "closed_at")
REQUEST_COLUMNS = ("reference", "elder_id", "placed_by_id", "placed_via", "service", "scheduled_at", "details",
                   "status", "community_id", "urgent", "created_at")

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def closed_windows(cadence: str, tier: str, now: datetime, years: int = YEARS) -> list:
    """Every window of `cadence` that started within the last `years` years and has ended by `now`."""
    today = local_date(now)
    day = today.replace(year=today.year - years, day=1)
    windows = []
    while True:
        window = window_for(cadence, local_midnight(day), tier)
        if window.end > now:
            return windows
        if local_date(window.start) >= today.replace(year=today.year - years, day=1):
            windows.append(window)
        day = local_date(window.end)


def _max(session: Session, column) -> int:
    return session.scalar(select(func.coalesce(func.max(column), 0))) or 0


def seed_history(session: Session, writer, rng, *, elders: list[tuple[int, int, str]],
                 volunteers_by_community: dict[int, list[int]], paired: dict[int, int], now: datetime,
                 years: int = YEARS) -> dict:
    """`elders`: (person id, community id, tier) of the new elders; `paired`: elder id → volunteer id."""
    tiers = policy()["tiers"]
    rules = policy()["time_bank"]
    weight = service_weight("visit")
    weight = int(weight) if weight.denominator == 1 else float(weight)
    windows = {tier: closed_windows(conf["cadence"], tier, now, years) for tier, conf in tiers.items()}
    community_rate = {c: rng.uniform(*DONE_RATE) for c in volunteers_by_community}
    by_tier: dict[str, list[tuple]] = {}
    position: dict[int, int] = {}
    for elder_id, community_id, tier in elders:
        # The paired volunteer, else the community's volunteers in turn (so the work spreads).
        volunteers = volunteers_by_community.get(community_id) or [None]
        position[community_id] = position.get(community_id, -1) + 1
        visitor = paired.get(elder_id) or volunteers[position[community_id] % len(volunteers)]
        rate = community_rate.get(community_id, 0.93)
        by_tier.setdefault(tier, []).append((elder_id, community_id, visitor, "volunteer" if visitor else None,
                                             rate if visitor else -1.0, rate, rate + EXCUSED_RATE))

    # ---- obligations and the visits that satisfy them (times as epoch seconds, UTC)
    stamps = writer.stamps
    obligation_id = _max(session, VisitObligation.id)
    obligations = []          # rows, satisfied_by_visit_id filled in later (index 13 holds a visit key)
    raw_visits = []           # (checked_in epoch s, elder, volunteer, community, duration, obligation row index)
    random = rng.random
    for tier, members in by_tier.items():
        for window in windows.get(tier, ()):
            # 09:00–17:59 local (UTC+8, no daylight saving) on a day of the window, to the minute
            start = int((window.start - EPOCH).total_seconds()) + 9 * 3600
            days = max(1, int((window.end - window.start).total_seconds()) // 86400)
            period, cadence = window.period, window.cadence
            opens, due, closes = stamps.moment(window.start), stamps.moment(window.due), stamps.moment(window.end)
            for elder_id, community_id, visitor, role, done_below, rate, excused_below in members:
                obligation_id += 1
                draw = random()
                if draw >= done_below:   # missed or excused (an elder with no volunteer is never done)
                    excused = rate <= draw < excused_below
                    obligations.append([obligation_id, elder_id, period, cadence, tier, community_id, opens, due,
                                        closes, "excused" if excused else "missed",
                                        "in_hospital" if excused else None, visitor, role, None, None, opens, closes])
                    continue
                index = len(obligations)
                obligations.append([obligation_id, elder_id, period, cadence, tier, community_id, opens, due, closes,
                                    "done", None, visitor, role, None, None, opens, closes])
                first = start + int(random() * days) * 86400 + int(random() * 540) * 60
                raw_visits.append((first, elder_id, visitor, community_id, 20 + int(random() * 71), index))
                if random() < SECOND_VISIT_RATE:
                    second = start + int(random() * days) * 86400 + int(random() * 540) * 60
                    raw_visits.append((max(second, first + 3600), elder_id, visitor, community_id,
                                       20 + int(random() * 71), -1))
    raw_visits.sort()

    # ---- visits in time order, each credited (caps per local day and year, as credit_visit does)
    visit_id = _max(session, Visit.id)
    transfer_id = _max(session, Transfer.id)
    account_id = _max(session, Account.id)
    head = session.get(LedgerHead, 1)
    entry_id = head.last_entry_id if head else 0
    prev = head.last_hash if head else GENESIS_HASH

    created = stamps.moment(now)
    accounts, balances = [], {}
    issuance = {}
    for community_id in volunteers_by_community:
        account_id += 1
        issuance[community_id] = account_id
        accounts.append([account_id, f"issuance:{community_id}", "issuance", None, community_id, 0, created])
    person = {}
    for community_id, volunteers in volunteers_by_community.items():
        for volunteer_id in volunteers:
            account_id += 1
            person[volunteer_id] = account_id
            accounts.append([account_id, f"person:{volunteer_id}", "person", volunteer_id, community_id, 0, created])

    visits, transfers, entries, stats = [], [], [], {}
    day_used: dict[tuple[int, int], int] = {}
    year_used: dict[tuple[int, int], int] = {}
    local_years: dict[int, int] = {}
    keyed = chain_hasher().hexdigest
    daily_cap, yearly_cap = rules["daily_cap_minutes"], rules["yearly_cap_minutes"]
    local_offset = 8 * 3600
    no_flags = json_text([])
    for checked_in, elder_id, volunteer_id, community_id, duration, index in raw_visits:
        visit_id += 1
        checked_out = checked_in + duration * 60
        verified = checked_out + 600
        at, out, verified_at = stamps[checked_in], stamps[checked_out], stamps[verified]
        value = int(duration * weight)
        local_day = (checked_in + local_offset) // 86400
        local_year = local_years.get(local_day)
        if local_year is None:
            local_year = local_years[local_day] = date.fromordinal(EPOCH_ORDINAL + local_day).year
        day_key, year_key = (volunteer_id, local_day), (volunteer_id, local_year)
        day_room = max(daily_cap - day_used.get(day_key, 0), 0)
        year_room = max(yearly_cap - year_used.get(year_key, 0), 0)
        credited = min(value, day_room, year_room)
        reason = None
        if value - credited > 0:
            reason = "daily_cap" if day_room <= year_room else "yearly_cap"
        visits.append((visit_id, volunteer_id, elder_id, community_id, "visit", at, out, "door_code", "door_code",
                       duration, no_flags, "verified", 1, 0, out, verified_at, verified_at, elder_id, "sms", credited,
                       value - credited, reason, at))
        if index >= 0:
            row = obligations[index]
            row[13], row[14], row[16] = visit_id, at, verified_at
        stats[elder_id] = (elder_id, at, visit_id)
        if credited <= 0:
            continue
        day_used[day_key] = day_used.get(day_key, 0) + credited
        year_used[year_key] = year_used.get(year_key, 0) + credited
        transfer_id += 1
        source, target = issuance[community_id], person[volunteer_id]
        transfers.append((transfer_id, "mint", credited, source, target, visit_id, elder_id, verified_at))
        created_micros = verified * 1_000_000   # created_us() of the whole-second verified time
        entry_id += 1
        digest = keyed(f"{prev}|{entry_id}|{transfer_id}|mint|{source}|{-credited}|{visit_id}||{created_micros}"
                       .encode())
        entries.append((entry_id, transfer_id, source, -credited, prev, digest))
        entry_id += 1
        prev = keyed(f"{digest}|{entry_id}|{transfer_id}|mint|{target}|{credited}|{visit_id}||{created_micros}"
                     .encode())
        entries.append((entry_id, transfer_id, target, credited, digest, prev))
        balances[source] = balances.get(source, 0) - credited
        balances[target] = balances.get(target, 0) + credited
    for row in accounts:
        row[5] = balances.get(row[0], 0)

    writer.write(Visit, VISIT_COLUMNS, visits)
    visit_count = len(visits)
    del visits, raw_visits
    writer.write(VisitObligation, OBLIGATION_COLUMNS, obligations)
    writer.write(ElderVisitStat, STAT_COLUMNS, list(stats.values()))
    writer.write(Account, ACCOUNT_COLUMNS, accounts)
    writer.write(Transfer, TRANSFER_COLUMNS, transfers)
    writer.write(Entry, ENTRY_COLUMNS, entries)
    if head is None:
        session.add(LedgerHead(id=1, last_entry_id=entry_id, last_hash=prev, version=1))
    else:
        session.execute(update(LedgerHead).where(LedgerHead.id == 1)
                        .values(last_entry_id=entry_id, last_hash=prev, version=LedgerHead.version + 1))

    snapshots = _snapshots(session, obligations, created)
    writer.write(ComplianceSnapshot, SNAPSHOT_COLUMNS, snapshots)
    requests = _open_requests(session, rng, elders, now, stamps)
    writer.write(ServiceRequest, REQUEST_COLUMNS, requests)
    if writer.postgres:
        for table, column in (("visits", "id"), ("visit_obligations", "id"), ("ledger_accounts", "id"),
                              ("ledger_transfers", "id")):
            session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                                 f"(SELECT COALESCE(MAX({column}), 1) FROM {table}))"))
    session.flush()
    return {"visits": visit_count, "obligations": len(obligations), "transfers": len(transfers),
            "entries": len(entries), "snapshots": len(snapshots), "open_requests": len(requests),
            "periods": sum(len(w) for w in windows.values())}


def _snapshots(session: Session, obligations: list, closed_at: str) -> list[tuple]:
    """Per closed period, figures per community summed up the area path (as compliance._snapshot)."""
    areas = {area.id: area for area in session.scalars(select(Area))}
    counts = Counter((row[2], row[5], row[9]) for row in obligations)   # (period, community, status)
    figures: dict[tuple[str, int], list[int]] = {}   # (period, area) → total, excused, done, missed
    paths: dict[int, list[int]] = {}
    slot = {"excused": 1, "done": 2, "missed": 3}
    for (period, community_id, status), count in counts.items():
        parts = paths.get(community_id)
        if parts is None:
            parts = paths[community_id] = [int(p) for p in areas[community_id].path.strip("/").split("/") if p]
        for area_id in parts:
            f = figures.get((period, area_id))
            if f is None:
                f = figures[(period, area_id)] = [0, 0, 0, 0]
            f[0] += count
            f[slot[status]] += count
    rows = []
    for (period, area_id), (total, excused, done, missed) in sorted(figures.items()):
        area = areas[area_id]
        parent = areas.get(area.parent_id) if area.parent_id else None
        rows.append((period, area_id, area.level, area.name, parent.name if parent else None, area.path, total,
                     total - excused, done, missed, excused, closed_at))
    return rows


def _open_requests(session: Session, rng, elders: list[tuple[int, int, str]], now: datetime,
                   stamps) -> list[tuple]:
    taken = set(session.scalars(select(ServiceRequest.reference)))
    communities = sorted({community_id for _e, community_id, _t in elders})
    count = min(len(elders), max(1, round(len(communities) * REQUESTS_PER_COMMUNITY)))
    references = [r for r in (str(n) for n in rng.sample(range(100_000, 1_000_000), count + len(taken)))
                  if r not in taken][:count]
    chosen = rng.sample(elders, count)
    rows = []
    for reference, (elder_id, community_id, _tier) in zip(references, chosen):
        created = now - timedelta(minutes=rng.randrange(1, 48 * 60))
        rows.append((reference, elder_id, elder_id, "web", rng.choice(("meal", "cleaning", "escort")),
                     stamps.moment(created + timedelta(days=1)), json_text({}), "open", community_id, 0,
                     stamps.moment(created)))
    return rows
