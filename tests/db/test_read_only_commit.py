"""A request that only read ends its transaction with COMMIT, so psycopg keeps the connection's
prepared statements (a ROLLBACK makes it forget them all, and PostgreSQL then plans every query of
every page afresh); a request that wrote anything and did not commit is still rolled back.

On the app's own engine and pool (not the tests' shared connection), as gunicorn runs it."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, insert, select, text

from portal.models import Area

pytestmark = pytest.mark.postgres_only


@pytest.fixture()
def real_app(database_url, tmp_path, monkeypatch):
    if not database_url.startswith("postgresql"):
        pytest.skip("psycopg's prepared statements: run with LINLI_TEST_DATABASE_URL")
    from portal import create_app
    from portal.access import public
    from portal.request_scope import db

    monkeypatch.setenv("LINLI_INSTANCE_PATH", str(tmp_path))
    app = create_app({"LINLI_DATABASE_URL": database_url, "TESTING": True, "LINLI_DEV_TOOLS": False})

    @app.get("/_test/read")
    @public
    def read():
        return str(db().scalar(select(func.count()).select_from(Area).where(Area.name == "只读测试")))

    @app.get("/_test/write-without-commit")
    @public
    def write_without_commit():
        db().execute(insert(Area).values(name="只读测试", level="district", path="/"))
        return "ok"

    @app.get("/_test/change-without-commit")
    @public
    def change_without_commit():
        db().add(Area(name="只读测试", level="district", path="/"))
        return "ok"

    @app.get("/_test/prepared")
    @public
    def prepared():
        return str(db().scalar(text("SELECT count(*) FROM pg_prepared_statements")))

    yield app
    app.extensions["linli"].engine.dispose()


def _areas_named(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(text("SELECT count(*) FROM areas WHERE name = '只读测试'"))
    finally:
        engine.dispose()


def test_a_page_that_only_reads_keeps_its_queries_prepared(real_app):
    client = real_app.test_client()
    for _ in range(8):  # psycopg prepares a query from its sixth run on one connection
        assert client.get("/_test/read").get_data(as_text=True) == "0"
    assert int(client.get("/_test/prepared").get_data(as_text=True)) >= 1


def test_a_request_that_wrote_without_commit_is_still_rolled_back(real_app, database_url):
    client = real_app.test_client()
    assert client.get("/_test/write-without-commit").status_code == 200
    assert client.get("/_test/change-without-commit").status_code == 200
    assert client.get("/_test/read").get_data(as_text=True) == "0"
    assert _areas_named(database_url) == 0
