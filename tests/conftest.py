"""Shared fixtures: a real database (SQLite by default, PostgreSQL via LINLI_TEST_DATABASE_URL),
the app with CSRF on, a console transport to read sent texts from, and a login helper."""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text

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


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
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


@pytest.fixture()
def transport():
    return ConsoleTransport(show_secrets=True)


@pytest.fixture()
def app_config(database_url, transport):
    """Extra config for the app under test; tests may add to it before `app` is created."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "LINLI_DATABASE_URL": database_url,
        "LINLI_TRANSPORT": transport,
        "LINLI_PUBLIC_URL": "https://linli.example.org",
        "LINLI_DEV_TOOLS": False,
        "LINLI_DEMO": False,
        "LINLI_REDIS_URL": "",
    }


@pytest.fixture()
def app(engine, app_config, monkeypatch):
    monkeypatch.setenv("LINLI_INSTANCE_PATH", str(TMP / "instance"))
    _wipe(engine)
    application = create_app(app_config)
    yield application
    application.extensions["linli"].engine.dispose()


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
