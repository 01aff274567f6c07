"""Alembic environment: Linli's metadata, the URL from the app's configuration."""
from __future__ import annotations

import os
from pathlib import Path

from alembic import context

import portal.models  # noqa: F401  (fills the metadata)
from portal.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    url = config.attributes.get("url") or os.environ.get("LINLI_DATABASE_URL")
    if url:
        return url
    instance = Path(os.environ.get("LINLI_INSTANCE_PATH") or Path(__file__).resolve().parent.parent / "instance")
    return f"sqlite:///{instance / 'linli.sqlite3'}"


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(database_url())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
