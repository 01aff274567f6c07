"""The ledger: gifts, spending, reversals, bad amounts, append-only, the chain, `linli ledger check`."""
from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from portal.models import Account, AppendOnlyError, Entry, FamilyLink, Transfer
from portal.services import DomainError, ledger, spending
from portal.services import visits as visit_service
from portal.services.ledger_check import check_ledger
from tests.factories import make_elder, make_person, make_volunteer
from tests.timebank.helpers import T0, visit


def earn(session, world, minutes=120, start=T0):
    v = visit(session, world.volunteer_a.person, world.elder_a, start=start, minutes=minutes)
    visit_service.verify_by_worker(session, v, world.worker_a, start + timedelta(hours=5))
    return v


def check(session):
    session.flush()
    result = check_ledger(session.connection())
    assert result.ok, result.findings
    return result


def mother_of(session, world, volunteer):
    mother = make_elder(session, world.community_b, "母亲")
    session.add(FamilyLink(family_id=volunteer.id, elder_id=mother.person_id, relation="女儿", status="approved"))
    session.flush()
    return mother


def test_gift_to_a_relative_and_to_the_pool(app, world, session):
    volunteer = world.volunteer_a.person
    earn(session, world, 120)
    mother = mother_of(session, world, volunteer)
    plan = ledger.plan_gift(session, volunteer, str(mother.person_id), "60")
    assert plan.balance_after == 60 and plan.recipient_name == "母亲"
    ledger.give(session, volunteer, str(mother.person_id), "60", T0 + timedelta(days=1))
    ledger.give(session, volunteer, "pool", 20, T0 + timedelta(days=1))
    assert ledger.balance_of(session, volunteer.id) == 40
    assert ledger.balance_of(session, mother.person_id) == 60
    check(session)


@pytest.mark.parametrize("amount, message", [
    ("0", "more than zero"), ("-5", "whole number"), ("1.5", "whole number"), ("abc", "whole number"),
    ("", "whole number"), ("99999999999", "at most"), ("５", "whole number"), (True, "whole number"),
    ("121", "you cannot give"),
])
def test_bad_gift_amounts_are_refused_and_the_ledger_untouched(app, world, session, amount, message):
    earn(session, world, 120)
    mother = mother_of(session, world, world.volunteer_a.person)
    before = session.scalar(select(func.count(Entry.id)))
    with pytest.raises(DomainError) as error:
        ledger.give(session, world.volunteer_a.person, str(mother.person_id), amount, T0 + timedelta(days=1))
    assert message in str(error.value.message)
    assert session.scalar(select(func.count(Entry.id))) == before
    assert ledger.balance_of(session, world.volunteer_a.person.id) == 120


def test_gifts_to_oneself_or_a_stranger_are_refused(app, world, session):
    volunteer = world.volunteer_a.person
    earn(session, world, 120)
    with pytest.raises(DomainError, match="yourself"):
        ledger.give(session, volunteer, str(volunteer.id), "10", T0)
    stranger = make_person(session, "陌生人")
    with pytest.raises(DomainError, match="approved relative"):
        ledger.give(session, volunteer, str(stranger.id), "10", T0)
    session.add(FamilyLink(family_id=volunteer.id, elder_id=world.elder_b.person_id, relation="女儿",
                           status="pending"))
    session.flush()
    with pytest.raises(DomainError, match="approved relative"):
        ledger.give(session, volunteer, str(world.elder_b.person_id), "10", T0)
    assert ledger.balance_of(session, volunteer.id) == 120
    check(session)


def test_spending_pays_the_serving_volunteer_from_the_payer(app, world, session):
    payer = world.volunteer_a.person
    earn(session, world, 200)
    mother = mother_of(session, world, payer)
    helper = make_volunteer(session, world.community_b, "乙志愿者").person
    v = visit(session, helper, mother, start=T0 + timedelta(days=2), minutes=50)
    ledger.choose_to_pay(session, payer, v, T0 + timedelta(days=2, hours=1))
    visit_service.confirm_by_elder(session, v, mother.person, "sms", T0 + timedelta(days=2, hours=2))
    assert ledger.balance_of(session, payer.id) == 150
    assert ledger.balance_of(session, helper.id) == 50
    assert session.scalar(select(Transfer.kind).where(Transfer.visit_id == v.id)) == "spend"
    check(session)


def test_spending_more_than_the_balance_or_too_young_is_refused(app, world, session):
    payer = world.volunteer_a.person
    earn(session, world, 30)
    mother = mother_of(session, world, payer)
    helper = make_volunteer(session, world.community_b, "乙志愿者").person
    v = visit(session, helper, mother, start=T0 + timedelta(days=2), minutes=50)
    with pytest.raises(DomainError, match="cannot spend 50"):
        ledger.choose_to_pay(session, payer, v, T0 + timedelta(days=2, hours=1))
    stranger = make_volunteer(session, world.community_a, "陌生志愿者", birth_date=date(1990, 1, 1)).person
    with pytest.raises(DomainError, match="from age 60"):
        ledger.choose_to_pay(session, stranger, v, T0 + timedelta(days=2, hours=1))
    assert v.paid_by_id is None and ledger.balance_of(session, payer.id) == 30


def test_reversal_by_a_worker_with_a_reason(app, world, session):
    v = earn(session, world, 100)
    minted = session.scalar(select(Transfer).where(Transfer.visit_id == v.id))
    with pytest.raises(DomainError, match="cannot be empty"):
        ledger.reverse(session, world.worker_a, minted.id, "  ", T0 + timedelta(days=1))
    ledger.reverse(session, world.worker_a, minted.id, "录错了老人", T0 + timedelta(days=1))
    assert ledger.balance_of(session, world.volunteer_a.person.id) == 0
    with pytest.raises(DomainError, match="already been reversed"):
        ledger.reverse(session, world.worker_a, minted.id, "again", T0 + timedelta(days=1))
    check(session)


def test_the_orm_refuses_to_edit_or_delete_ledger_rows(app, world, session):
    earn(session, world, 100)
    session.commit()
    entry = session.scalar(select(Entry).limit(1))
    entry.amount = 1000
    with pytest.raises(AppendOnlyError):
        session.flush()
    session.rollback()
    with pytest.raises(AppendOnlyError):
        session.execute(Transfer.__table__.delete())
    session.rollback()
    transfer = session.scalar(select(Transfer).limit(1))
    session.delete(transfer)
    with pytest.raises(AppendOnlyError):
        session.flush()


def test_a_visit_is_credited_once_even_by_the_database(app, world, session):
    v = earn(session, world, 100)
    issuance = ledger.issuance_account(session, world.community_a.id)
    account = ledger.person_account(session, world.volunteer_a.person.id)
    from sqlalchemy.exc import IntegrityError

    session.add(Transfer(kind="mint", amount=100, from_account_id=issuance.id, to_account_id=account.id,
                         visit_id=v.id, created_at=T0))
    with pytest.raises(IntegrityError):
        session.flush()


def test_two_verifications_at_the_same_moment_give_one_credit(committed, app, world, session):
    v = visit(session, world.volunteer_a.person, world.elder_a, minutes=75)
    session.commit()
    factory = app.extensions["linli"].session_factory
    barrier = threading.Barrier(2)
    outcomes = []

    def verify(by_elder: bool):
        with factory() as own:
            mine = own.get(type(v), v.id)
            barrier.wait()
            try:
                if by_elder:
                    visit_service.confirm_by_elder(own, mine, mine.elder, "sms", T0 + timedelta(hours=2))
                else:
                    worker = own.get(type(world.worker_a), world.worker_a.id)
                    visit_service.verify_by_worker(own, mine, worker, T0 + timedelta(hours=2))
                own.commit()
                outcomes.append("ok")
            except DomainError:
                own.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=verify, args=(flag,)) for flag in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "refused"]
    session.expire_all()
    assert session.scalar(select(func.count(Transfer.id)).where(Transfer.visit_id == v.id)) == 1
    assert ledger.balance_of(session, world.volunteer_a.person.id) == 75
    check(session)


def test_ledger_check_command_passes_then_fails_after_tampering(app, world, session):
    earn(session, world, 100)
    session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["ledger", "check"])
    assert result.exit_code == 0, result.output
    assert "ledger ok: 2 entries, 1 transfers" in result.output
    with app.extensions["linli"].engine.begin() as conn:  # someone edits the database directly
        conn.execute(text("UPDATE ledger_entries SET amount = 1000 WHERE amount = 100"))
    result = runner.invoke(args=["ledger", "check"])
    assert result.exit_code == 1
    assert "changed after it was written" in result.output and "cached balance" in result.output


def test_ledger_check_finds_a_deleted_entry_and_a_forged_balance(app, world, session):
    earn(session, world, 100)
    earn(session, world, 50, start=T0 + timedelta(days=1))
    session.commit()
    with app.extensions["linli"].engine.begin() as conn:
        conn.execute(text("UPDATE ledger_accounts SET balance = balance + 5 WHERE kind = 'person'"))
    result = app.test_cli_runner().invoke(args=["ledger", "check"])
    assert result.exit_code == 1 and "cached balance" in result.output
    with app.extensions["linli"].engine.begin() as conn:
        conn.execute(text("UPDATE ledger_accounts SET balance = balance - 5 WHERE kind = 'person'"))
        conn.execute(text("DELETE FROM ledger_entries WHERE id = (SELECT MAX(id) FROM ledger_entries)"))
    result = app.test_cli_runner().invoke(args=["ledger", "check"])
    assert result.exit_code == 1 and "ledger head" in result.output


# ---------------------------------------------------------------- property-based

action = st.one_of(
    st.tuples(st.just("visit"), st.integers(1, 300), st.sampled_from(["a", "b"])),
    st.tuples(st.just("verify"), st.integers(0, 20), st.sampled_from(["elder", "worker"])),
    st.tuples(st.just("gift"), st.one_of(st.integers(-5, 400), st.sampled_from(["1.5", "x", "0"])),
              st.sampled_from(["mother", "pool", "self", "stranger"])),
    st.tuples(st.just("spend"), st.integers(0, 20), st.just("")),
    st.tuples(st.just("reverse"), st.integers(0, 20), st.just("")),
    st.tuples(st.just("allocate"), st.integers(-5, 200), st.just("")),
)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(actions=st.lists(action, min_size=1, max_size=25))
def test_random_sequences_keep_every_invariant(app, world, session, actions):
    ledger_tables = ["ledger_entries", "ledger_transfers", "ledger_accounts", "ledger_head", "follow_ups",
                     "visits", "outbound_messages"]
    with app.extensions["linli"].engine.begin() as conn:
        for name in ledger_tables:
            conn.execute(text(f"DELETE FROM {name}"))
    session.expire_all()
    volunteer = session.get(type(world.worker_a), world.volunteer_a.person_id)
    extra = session.info.setdefault("hypo", {})
    if "mother" not in extra:
        extra["mother"] = mother_of(session, world, volunteer).person_id
        extra["stranger"] = make_person(session, "路人").id
        extra["helper"] = make_volunteer(session, world.community_a, "助手").person_id
        session.commit()
    mother_id, stranger_id, helper_id = extra["mother"], extra["stranger"], extra["helper"]
    from portal.models import ElderProfile, Person, Visit

    moment = T0
    visits: list[int] = []
    for kind, value, option in actions:
        moment += timedelta(hours=6)
        try:
            if kind == "visit":
                who = volunteer if option == "a" else session.get(Person, helper_id)
                elder = world.elder_a if option == "a" else session.get(ElderProfile, mother_id)
                visits.append(visit(session, who, elder, start=moment, minutes=value).id)
            elif kind == "verify" and visits:
                v = session.get(Visit, visits[value % len(visits)])
                if option == "elder":
                    visit_service.confirm_by_elder(session, v, v.elder, "sms", moment)
                else:
                    visit_service.verify_by_worker(session, v, world.worker_a, moment)
            elif kind == "gift":
                target = {"mother": str(mother_id), "pool": "pool", "self": str(volunteer.id),
                          "stranger": str(stranger_id)}[option]
                before = ledger.balance_of(session, volunteer.id)
                ledger.give(session, volunteer, target, value if isinstance(value, str) else value, moment)
                assert option in ("mother", "pool") and isinstance(value, int) and 0 < value <= before
            elif kind == "spend" and visits:
                ledger.choose_to_pay(session, volunteer, session.get(Visit, visits[value % len(visits)]), moment)
            elif kind == "allocate":
                spending.allocate(session, world.worker_a, world.elder_a.person_id, value, None, moment)
            elif kind == "reverse":
                ids = session.scalars(select(Transfer.id).order_by(Transfer.id)).all()
                if ids:
                    ledger.reverse(session, world.worker_a, ids[value % len(ids)], "测试更正", moment)
            session.commit()
        except DomainError:
            session.rollback()
        session.expire_all()
        result = check_ledger(session.connection())
        assert result.ok, result.findings
        for person_id in (volunteer.id, mother_id, helper_id, world.elder_a.person_id):
            assert ledger.balance_of(session, person_id) >= 0
        assert (session.scalar(select(func.min(Account.balance)).where(Account.kind == "donation_pool")) or 0) >= 0
        per_visit = session.execute(select(Transfer.visit_id, func.count()).where(Transfer.visit_id.is_not(None))
                                    .group_by(Transfer.visit_id)).all()
        assert all(count == 1 for _, count in per_visit)
    session.rollback()
