"""Without the compiled Chinese catalogue Linli would speak English to everyone: it refuses to start."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from portal import create_app
from portal.i18n import LOCALES_DIR, CatalogueMissing, translate_for

ROOT = Path(__file__).resolve().parents[2]


def test_the_app_refuses_to_start_without_the_default_catalogue(app_config, tmp_path):
    shutil.copytree(LOCALES_DIR, tmp_path / "locales")
    (tmp_path / "locales" / "zh_Hans" / "LC_MESSAGES" / "messages.mo").unlink()  # the .po is still there
    with pytest.raises(CatalogueMissing, match=r"zh_Hans.*scripts/i18n.py compile"):
        create_app(dict(app_config, BABEL_TRANSLATION_DIRECTORIES=str(tmp_path / "locales")))
    # Nothing was switched over by the refused start.
    assert translate_for("zh_Hans", "Sorry, we did not understand that.") != "Sorry, we did not understand that."


def test_an_empty_catalogue_is_refused_too(app_config, tmp_path):
    (tmp_path / "zh_Hans" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "zh_Hans" / "LC_MESSAGES" / "messages.mo").write_bytes(b"")
    with pytest.raises(CatalogueMissing):
        create_app(dict(app_config, BABEL_TRANSLATION_DIRECTORIES=str(tmp_path)))


def test_the_app_starts_with_the_compiled_catalogues(app):
    assert app.config["BABEL_TRANSLATION_DIRECTORIES"]


def test_the_linli_command_says_why_it_refuses(tmp_path):
    """End to end: `linli` in a copy of the project whose catalogues were never compiled."""
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "portal", copy / "portal", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "locales", copy / "locales", ignore=shutil.ignore_patterns("*.mo"))
    for name in ("templates", "static", "migrations", "jobs"):
        if (ROOT / name).exists():
            (copy / name).symlink_to(ROOT / name)
    env = {**os.environ, "PYTHONPATH": str(copy), "LINLI_INSTANCE_PATH": str(tmp_path / "instance"),
           "LINLI_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    env.pop("LINLI_ENV", None)
    result = subprocess.run([sys.executable, "-c", "from portal.cli import main; main()", "jobs", "list"],
                            cwd=copy, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "catalogue" in result.stderr and "scripts/i18n.py compile" in result.stderr
