"""The seeded district's history: a valid ledger, obligations matching their visits and snapshots."""
from sqlalchemy import func, select

from portal.models import (
    Account,
    ComplianceSnapshot,
    ElderProfile,
    Entry,
    ServiceRequest,
    Transfer,
    Visit,
    VisitObligation,
)
from portal.services.compliance import live_figures
from portal.services.ledger_check import check_ledger


def test_seeded_district_passes_the_ledger_check_and_has_consistent_obligations(app, session):
    result = app.test_cli_runner().invoke(args=["seed", "--elders", "600"])
    assert result.exit_code == 0, result.output
    session.expire_all()

    check = app.test_cli_runner().invoke(args=["ledger", "check"])
    assert check.exit_code == 0, check.output
    assert "ledger ok" in check.output
    outcome = check_ledger(session.connection())
    assert outcome.ok and outcome.entries > 1000

    visits = session.scalar(select(func.count(Visit.id)))
    credited = session.scalar(select(func.count(Transfer.id)).where(Transfer.kind == "mint"))
    assert visits > 600 * 6 and credited == visits  # no cap is reached with this spread of work
    assert session.scalar(select(func.count(Entry.id))) == 2 * credited
    # Issuance accounts hold the negative of everything minted; balances sum to zero.
    assert session.scalar(select(func.sum(Account.balance))) == 0

    # Every done obligation is satisfied by a verified visit of that elder inside its window.
    bad = session.scalar(
        select(func.count(VisitObligation.id))
        .join(Visit, Visit.id == VisitObligation.satisfied_by_visit_id)
        .where(VisitObligation.status == "done",
               (Visit.elder_id != VisitObligation.elder_id) | (Visit.status != "verified")
               | (Visit.checked_in_at < VisitObligation.window_start)
               | (Visit.checked_in_at >= VisitObligation.window_end)))
    assert bad == 0
    done = session.scalar(select(func.count(VisitObligation.id)).where(VisitObligation.status == "done"))
    linked = session.scalar(select(func.count(VisitObligation.id))
                            .where(VisitObligation.satisfied_by_visit_id.is_not(None)))
    assert done == linked > 0
    # Only closed periods are seeded: nothing is open, and each period has its snapshots.
    assert session.scalar(select(func.count(VisitObligation.id))
                          .where(VisitObligation.status.in_(("upcoming", "due")))) == 0
    periods = set(session.scalars(select(VisitObligation.period).distinct()))
    assert periods == set(session.scalars(select(ComplianceSnapshot.period).distinct()))
    # The frozen figures equal the live ones, community by community and for the district.
    for period in sorted(periods)[:: max(1, len(periods) // 10)]:
        live = live_figures(session, period)
        snaps = {s.area_id: s for s in session.scalars(
            select(ComplianceSnapshot).where(ComplianceSnapshot.period == period))}
        for community_id, figures in live.items():
            snap = snaps[community_id]
            assert (snap.total, snap.done, snap.missed, snap.excused) == (
                figures.total, figures.done, figures.missed, figures.excused)
        district = next(s for s in snaps.values() if s.area_level == "district")
        assert district.total == sum(f.total for f in live.values())
    tiers = dict(session.execute(select(ElderProfile.care_tier, func.count()).group_by(ElderProfile.care_tier)).all())
    weekly = session.scalar(select(func.count(VisitObligation.id)).where(VisitObligation.cadence == "weekly"))
    assert weekly >= tiers.get("high_risk", 0) * 100
    assert session.scalar(select(func.count(ServiceRequest.id)).where(ServiceRequest.status == "open")) >= 1


def test_seed_can_run_twice_and_the_chain_continues(app, session):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed", "--elders", "300"]).exit_code == 0
    second = runner.invoke(args=["seed", "--elders", "300", "--seed", "8"])
    assert second.exit_code == 0, second.output
    check = runner.invoke(args=["ledger", "check"])
    assert check.exit_code == 0 and "ledger ok" in check.output, check.output
