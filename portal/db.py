"""Engine, session and declarative base. One session per request or job; commit at the edge."""
from __future__ import annotations

import os
from datetime import datetime, timezone

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Timezone-aware now in UTC; every stored time is UTC."""
    return datetime.now(timezone.utc)


def _private_sqlite_file(url: str) -> None:
    """Create the database file 0600 before SQLite does (its -wal and -shm files copy the mode), and
    take group and world access away from one that exists."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(database, 0o600)
    except OSError:
        pass  # a read-only location: SQLite reports the real problem when it connects


WROTE = "linli_wrote"  # connection.info: this transaction sent a statement other than a SELECT


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine with the per-backend settings Linli relies on."""
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 5)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "begin")
    def _nothing_written_yet(connection):
        connection.info[WROTE] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _mark_writes(connection, _cursor, statement, _parameters, _context, _executemany):
        # anything but a plain SELECT counts as a write (a WITH may hold an INSERT): see request_scope.close
        if not connection.info.get(WROTE) and not statement.lstrip()[:6].upper() == "SELECT":
            connection.info[WROTE] = True

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
