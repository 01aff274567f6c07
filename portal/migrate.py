"""Alembic from Python: used by `linli db …`, the demo and the tests."""
from __future__ import annotations

from alembic import command
from alembic.config import Config

from portal.resources import WORKING_COPY, asset_dir


def alembic_config(url: str) -> Config:
    # alembic.ini (logging, the revision file template) is for developers; an installed package has none.
    ini = WORKING_COPY / "alembic.ini"
    config = Config(str(ini)) if ini.is_file() and (WORKING_COPY / "migrations").is_dir() else Config()
    config.set_main_option("script_location", str(asset_dir("migrations")))
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)
