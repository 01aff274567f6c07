"""A wheel built from the working copy runs the app on its own: templates, static files (htmx when
present), compiled catalogues and migrations are inside the package."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP = shutil.ignore_patterns(".git", ".venv", "node_modules", "instance", "build", "dist", "__pycache__",
                              "*.egg-info", "test-artifacts", ".data", ".pytest_cache", ".hypothesis", "*.mo",
                              ".import_linter_cache")
TIMEOUT = 300


def _run(*args, **kwargs):
    done = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, args))}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source") / "linli"
    shutil.copytree(ROOT, source, ignore=SKIP)  # a clean copy: no build files left in the working copy
    out = tmp_path_factory.mktemp("wheel")
    try:
        import wheel as _wheel  # noqa: F401  # building offline needs it in this environment
        isolation = ["--no-build-isolation"]
    except ImportError:
        isolation = []  # the build back-end comes from the package index (pip's configuration)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-w", str(out), str(source))
    (built,) = out.glob("linli-*.whl")
    return built


def test_the_wheel_holds_templates_static_catalogues_and_migrations(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "portal/templates/base.html" in names and "portal/templates/admin/areas.html" in names
    assert "portal/static/css/linli.css" in names
    assert "portal/locales/zh_Hans/LC_MESSAGES/messages.mo" in names
    assert "portal/migrations/env.py" in names
    assert any(n.startswith("portal/migrations/versions/") for n in names)
    if (ROOT / "static" / "vendor" / "htmx.min.js").is_file():
        assert "portal/static/vendor/htmx.min.js" in names


def test_the_installed_wheel_runs_linli_and_renders_the_login_page(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", str(venv))
    python = venv / "bin" / "python"
    _run(str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel))
    # The dependencies come from this environment's site-packages (no network), after the venv's own.
    installed = Path(_run(str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    (installed / "linli-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "LANG": "C.UTF-8",
           "LINLI_INSTANCE_PATH": str(tmp_path / "instance"),
           "LINLI_DATABASE_URL": f"sqlite:///{tmp_path / 'linli.sqlite3'}"}
    assert "Linli" in _run(str(venv / "bin" / "linli"), "--help", env=env, cwd=tmp_path)
    assert "database at head" in _run(str(venv / "bin" / "linli"), "db", "upgrade", env=env, cwd=tmp_path)
    check = textwrap.dedent("""
        import portal
        from portal import create_app
        assert "venv" in portal.__file__, portal.__file__
        app = create_app({"TESTING": True, "LINLI_REDIS_URL": ""})
        client = app.test_client()
        page = client.get("/login", headers={"Accept-Language": "zh-CN"})
        assert page.status_code == 200, page.status_code
        html = page.get_data(as_text=True)
        assert "手机号码" in html, html[:500]            # Chinese, from the compiled catalogue
        assert client.get("/static/css/linli.css").status_code == 200
        print(app.template_folder)
        """)
    out = _run(str(python), "-c", check, env=env, cwd=tmp_path)
    assert str(venv) in out
