"""Alembic from Python: used by `linli db …`, the demo and the tests.

Alembic is imported when a command runs, not when the app loads: with Mako and Pygments behind it
it is about 10 MB in every web worker, which never migrates (measured with tracemalloc)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from portal.resources import WORKING_COPY, asset_dir

if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    # alembic.ini (logging, the revision file template) is for developers; an installed package has none.
    ini = WORKING_COPY / "alembic.ini"
    config = Config(str(ini)) if ini.is_file() and (WORKING_COPY / "migrations").is_dir() else Config()
    config.set_main_option("script_location", str(asset_dir("migrations")))
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)
