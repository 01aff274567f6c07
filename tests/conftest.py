"""Shared fixtures: a real database (SQLite by default, PostgreSQL via LINLI_TEST_DATABASE_URL),
the app with CSRF on, a console transport to read sent texts from, and a login helper.

One app serves the whole session; a test that changes `app_config` gets an app of its own. Each
test runs inside a transaction on one connection that is rolled back afterwards (SQLAlchemy's
"joining a session into an external transaction" recipe): every session the app opens from its
session factory — a request's, `dispatch`'s, a job's — is a savepoint on that connection, and the
app's engine stands in for it too (`engine.begin()` / `engine.connect()`). Tests that need data
another connection can see (threads racing on the database, real servers, subprocesses) ask for
the `committed` fixture: they get the real engine, and every table is emptied before and after.
"""
from __future__ import annotations

import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import sessionmaker

import portal.models  # noqa: F401
from portal import create_app
from portal.channels.transport import ConsoleTransport
from portal.db import Base, make_engine

ROOT = Path(__file__).resolve().parent.parent
TMP = Path(tempfile.mkdtemp(prefix="linli-tests-"))


def _compile_catalogs() -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in (ROOT / "locales").glob("*/LC_MESSAGES/messages.po"):
        with po_path.open("rb") as handle:
            catalog = read_po(handle)
        with po_path.with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog)


def pytest_configure(config):
    _compile_catalogs()


@pytest.fixture(scope="session")
def database_url() -> str:
    return os.environ.get("LINLI_TEST_DATABASE_URL") or f"sqlite:///{TMP / 'test.sqlite3'}"


def _sqlite_savepoints(engine) -> None:
    """pysqlite begins transactions on its own and breaks SAVEPOINT; let SQLAlchemy emit BEGIN
    (the recipe in SQLAlchemy's SQLite dialect notes), so a test's savepoints nest properly."""

    @event.listens_for(engine, "connect")
    def _no_implicit_begin(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _explicit_begin(connection):
        connection.exec_driver_sql("BEGIN")


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    if engine.dialect.name == "sqlite":
        _sqlite_savepoints(engine)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _wipe(engine) -> None:
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


class JoinedConnection:
    """What `engine.connect()` hands out during a test: the test's connection inside a savepoint
    (released on a clean exit, rolled back on an error), never closed by the caller."""

    def __init__(self, connection):
        self._connection = connection
        self._savepoint = None

    def __enter__(self):
        self._savepoint = self._connection.begin_nested()
        return self

    def __exit__(self, exc_type, _exc, _tb):
        if self._savepoint is not None and self._savepoint.is_active:
            if exc_type is None:
                self._savepoint.commit()
            else:
                self._savepoint.rollback()

    def execution_options(self, **options):
        return self  # e.g. AUTOCOMMIT for ANALYZE: inside the test's transaction there is none

    def commit(self):
        self._savepoint.commit()
        self._savepoint = self._connection.begin_nested()

    def rollback(self):
        self._savepoint.rollback()
        self._savepoint = self._connection.begin_nested()

    def close(self):
        self.__exit__(None, None, None)

    def __getattr__(self, name):
        return getattr(self._connection, name)


class JoinedEngine:
    """Stands in for the app's engine during a test, so raw SQL (metrics, `linli ledger check`, a
    test tampering with a row) runs on the test's connection too. `connection` is the target for
    event listeners (e.g. counting statements)."""

    def __init__(self, engine, connection):
        self._engine = engine
        self.connection = connection

    @contextmanager
    def begin(self):
        with self.connection.begin_nested():
            yield self.connection

    def connect(self):
        return JoinedConnection(self.connection)

    def dispose(self):
        pass  # the session's engine outlives the test

    def __getattr__(self, name):
        return getattr(self._engine, name)


@pytest.fixture()
def transport():
    return ConsoleTransport(show_secrets=True)


def _default_config(database_url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "LINLI_DATABASE_URL": database_url,
        "LINLI_PUBLIC_URL": "https://linli.example.org",
        "LINLI_DEV_TOOLS": False,
        "LINLI_DEMO": False,
        "LINLI_REDIS_URL": "",
    }


@pytest.fixture()
def app_config(database_url, transport):
    """Extra config for the app under test; tests may add to it before `app` is created (the test
    then gets the app made for that configuration instead of the default one)."""
    return {**_default_config(database_url), "LINLI_TRANSPORT": transport}


@pytest.fixture(scope="session")
def app_for_config(database_url):
    """One app per distinct configuration, created on first use and kept for the session (most
    tests share the default one). Each app's own engine (made as in production) serves the
    `committed` tests; the others run on the test's connection."""
    apps: dict[str, object] = {}

    def app_for(config: dict):
        key = repr(sorted((k, v) for k, v in config.items() if k != "LINLI_TRANSPORT"))
        if key not in apps:
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("LINLI_INSTANCE_PATH", str(TMP / "instance"))
                apps[key] = create_app(config)
        return apps[key]

    yield app_for
    for application in apps.values():
        application.extensions["linli"].engine.dispose()


@pytest.fixture(autouse=True, scope="session")
def _cheap_hashes():
    """Login codes and the demo's staff passwords hashed cheaply too (each sign-in in a test hashes
    and checks a code; the demo hashes one password per worker and officer)."""
    from portal.services import demo, login
    from tests.factories import CHEAP_HASHER

    with pytest.MonkeyPatch.context() as patch:
        for module, name in ((login, "_code_hasher"), (demo, "password_hasher")):
            if hasattr(module, name):
                patch.setattr(module, name, CHEAP_HASHER)
        yield


@pytest.fixture()
def committed():
    """Ask for this when the test needs really committed data (threads with their own
    connections, servers, subprocesses): the app then runs on the real engine and every table is
    emptied before and after the test."""
    return True


@pytest.fixture()
def connection(request, engine):
    """The test's connection, in a transaction rolled back at the end (None for `committed` tests)."""
    if "committed" in request.fixturenames:
        _wipe(engine)
        yield None
        _wipe(engine)
        return
    connection = engine.connect()
    transaction = connection.begin()
    yield connection
    if transaction.is_active:
        transaction.rollback()
    connection.close()


@pytest.fixture()
def app(app_for_config, engine, app_config, connection, monkeypatch):
    """The app for this test's `app_config` (shared with every test of the same configuration),
    with this test's transport, a fresh rate limiter, and its sessions on the test's connection;
    its config and state are put back afterwards."""
    from portal.clock import set_local_timezone
    from portal.policy import load_policy, set_policy
    from portal.ratelimit import make_limiter

    monkeypatch.setenv("LINLI_INSTANCE_PATH", str(TMP / "instance"))
    application = app_for_config(app_config)
    state = application.extensions["linli"]
    saved_config, saved_state = dict(application.config), dict(vars(state))
    set_policy(load_policy(application.config.get("LINLI_POLICY_FILE") or None))
    set_local_timezone(application.config["LINLI_TIMEZONE"])
    application.config["LINLI_TRANSPORT"] = state.transport = app_config["LINLI_TRANSPORT"]
    state.limiter = make_limiter(application.config.get("LINLI_REDIS_URL"))
    if connection is not None:
        state.engine = JoinedEngine(engine, connection)
        state.session_factory = sessionmaker(bind=connection, expire_on_commit=False,
                                             join_transaction_mode="create_savepoint")
    yield application
    application.config.clear()
    application.config.update(saved_config)
    vars(state).update(saved_state)


@pytest.fixture()
def session(app):
    """A session on the app's database, for arranging and checking data outside requests."""
    with app.extensions["linli"].session_factory() as db_session:
        yield db_session


@pytest.fixture()
def client(app):
    return app.test_client()


CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html) or re.search(r'"X-CSRFToken": "([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


class Browser:
    """A thin helper over the test client that submits forms with their CSRF token, as a browser does."""

    def __init__(self, client, transport):
        self.client = client
        self.transport = transport

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url, data=None, page=None, **kwargs):
        """POST `data` to `url`, taking the CSRF token from `page` (default: GET `url` first)."""
        html = self.client.get(page or url, follow_redirects=True).get_data(as_text=True)
        form = dict(data or {})
        form.setdefault("csrf_token", csrf_from(html))
        return self.client.post(url, data=form, **kwargs)

    def last_code(self, phone: str) -> str:
        messages = [m for m in self.transport.messages_to(phone) if m.kind == "login_code"]
        assert messages, f"no login code was sent to {phone}"
        return re.search(r"\d{6}", messages[-1].body).group(0)

    def login(self, phone: str, password: str | None = None):
        response = self.post("/login", {"phone": phone})
        assert response.status_code == 303, response.get_data(as_text=True)
        response = self.post("/login/code", {"code": self.last_code(phone)})
        assert response.status_code == 303, response.get_data(as_text=True)
        if "/login/password" in response.headers["Location"]:
            response = self.post("/login/password", {"password": password})
            assert response.status_code == 303, response.get_data(as_text=True)
        return response

    def logout(self):
        return self.post("/logout", {}, page="/")


@pytest.fixture()
def browser(client, transport):
    return Browser(client, transport)


@pytest.fixture()
def world(session):
    """A district with two streets and communities A and B, a worker for each, an officer, elders."""
    from tests.factories import build_world

    data = build_world(session)
    session.commit()
    return data
