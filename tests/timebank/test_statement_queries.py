"""The monthly statement reads the account and its opening balance once (issue 16: the statement
page at district scale), and says the same as before: opening + the month's rows = closing."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from portal.services import statements
from tests.timebank.helpers import T0
from tests.timebank.test_ledger import earn


def test_the_statement_reads_the_opening_balance_once(app, world, session):
    earn(session, world, 60, start=T0 - timedelta(days=40))  # last month: the opening balance
    earn(session, world, 90, start=T0)
    session.commit()
    engine = session.get_bind()
    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", before)
    try:
        local = T0 + timedelta(hours=8)
        statement = statements.monthly_statement(session, world.volunteer_a.person_id, local.year, local.month)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert len([s for s in seen if "sum(ledger_entries.amount)" in s]) == 1, seen
    assert len([s for s in seen if s.startswith("SELECT ledger_accounts.id FROM ledger_accounts WHERE")]) == 1, seen
    assert statement.opening > 0 and statement.closing == statement.opening + sum(r.minutes for r in statement.rows)
    assert statement.rows and statement.rows[-1].balance_after == statement.closing


def test_printing_a_statement_is_audited_with_the_elder_it_belongs_to(world, browser, session):
    """The audit trail of an elder lists her printed statements; a volunteer's carry no elder."""
    from sqlalchemy import select

    from portal.models import AuditEvent

    for person, elder_id in ((world.elder_a.person, world.elder_a.person_id),
                             (world.volunteer_a.person, None)):
        browser.login(person.phone)
        assert browser.get("/time-bank/statement/2026/11").status_code == 200
        browser.logout()
        event = session.scalars(select(AuditEvent).where(AuditEvent.actor_id == person.id,
                                                         AuditEvent.subject_type == "time_statement")).one()
        assert (event.action, event.subject_id, event.elder_id) == ("print", "2026-11", elder_id)
