import shutil

import pytest
from sqlalchemy import select

from portal.models import Person

# Backups are read and restored by other connections (sqlite3's backup API, pg_dump, pg_restore).
pytestmark = pytest.mark.usefixtures("committed")


@pytest.fixture()
def needs_tools(database_url):
    if database_url.startswith("postgresql") and not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump/pg_restore are not installed (PostgreSQL client tools)")


def _name(session, person_id):
    session.expire_all()
    return session.scalar(select(Person.name).where(Person.id == person_id))


def test_backup_then_restore_brings_back_the_data(app, world, session, tmp_path, needs_tools):
    runner = app.test_cli_runner()
    elder_id = world.elder_a.person_id
    original = _name(session, elder_id)
    target = tmp_path / "linli.backup"
    result = runner.invoke(args=["backup", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0 and "backup written" in result.output

    session.get(Person, elder_id).name = "改掉的名字"
    session.commit()
    session.close()  # PostgreSQL: no open transaction may hold a lock on the tables

    refused = runner.invoke(args=["restore", str(target)], input="n\n")
    assert refused.exit_code == 1 and "nothing restored" in refused.output
    assert _name(session, elder_id) == "改掉的名字"
    session.close()

    restored = runner.invoke(args=["restore", str(target), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert _name(session, elder_id) == original


def test_restore_of_a_file_that_is_no_backup_changes_nothing(app, world, session, tmp_path, needs_tools):
    bogus = tmp_path / "not-a-backup"
    bogus.write_bytes(b"hello, this is not a database dump" * 100)
    session.close()
    result = app.test_cli_runner().invoke(args=["restore", str(bogus), "--yes"])
    assert result.exit_code == 1 and "restore failed" in result.output
    assert _name(session, world.elder_a.person_id) == world.elder_a.person.name


def test_backup_default_path_is_in_the_instance_folder(app, world, needs_tools):
    result = app.test_cli_runner().invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    assert "/backups/linli-" in result.output
