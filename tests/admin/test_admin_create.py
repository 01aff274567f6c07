"""`linli admin create`: the first administrator, who then signs in like any staff member."""
from __future__ import annotations

from sqlalchemy import select

from portal.models import AuditEvent, Person
from tests.factories import make_person

PASSWORD = "first-admin-2026"


def _create(app, *args, password=PASSWORD, confirm=None):
    stdin = f"{password}\n{confirm if confirm is not None else password}\n"
    return app.test_cli_runner().invoke(args=["admin", "create", *args], input=stdin)


def test_admin_created_by_the_command_signs_in_with_code_and_password(app, session, browser):
    result = _create(app, "--phone", "139 0000 1111", "--name", "管理员")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    admin = session.scalar(select(Person).where(Person.phone == "+8613900001111"))
    assert admin.roles() == {"admin"} and admin.password_hash and PASSWORD not in admin.password_hash
    assert session.scalar(select(AuditEvent).where(AuditEvent.subject_type == "admin")) is not None
    response = browser.login("+8613900001111", PASSWORD)
    assert response.status_code == 303
    assert browser.get("/home", follow_redirects=True).status_code == 200


def test_password_is_never_an_option_and_must_be_confirmed(app, session):
    result = app.test_cli_runner().invoke(
        args=["admin", "create", "--phone", "13900001111", "--name", "管理员", "--password", PASSWORD])
    assert result.exit_code != 0 and "No such option" in result.output
    result = _create(app, "--phone", "13900001111", "--name", "管理员", confirm="something-else-2026")
    assert result.exit_code != 0
    assert session.scalar(select(Person)) is None


def test_short_password_refused(app, session):
    result = _create(app, "--phone", "13900001111", "--name", "管理员", password="short")
    assert result.exit_code == 1
    assert session.scalar(select(Person)) is None


def test_existing_number_refused_unless_grant(app, session):
    worker = make_person(session, phone="+8613900002222", name="张伟", role="worker")
    session.commit()
    result = _create(app, "--phone", "13900002222", "--name", "张伟")
    assert result.exit_code == 1 and "--grant" in result.output
    session.expire_all()
    assert session.get(Person, worker.id).roles() == {"worker"}
    result = _create(app, "--phone", "13900002222", "--name", "张伟", "--grant")
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert session.get(Person, worker.id).roles() == {"worker", "admin"}
