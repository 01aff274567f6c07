"""The layers hold: `lint-imports` (pyproject.toml's contracts) passes on the code, and fails as
soon as a module imports the wrong way."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")


def lint_imports() -> subprocess.CompletedProcess:
    return subprocess.run([LINT, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture()
def probe():
    """A module the test writes into a layer and always removes."""
    written: list[Path] = []

    def write(relative: str, source: str) -> None:
        path = ROOT / relative
        path.write_text(source)
        written.append(path)

    yield write
    for path in written:
        path.unlink(missing_ok=True)


def test_the_code_keeps_every_contract():
    result = lint_imports()
    assert result.returncode == 0, result.stdout[-3000:]
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize(("relative", "source", "contract"), [
    ("portal/services/_contract_probe.py", "from portal.web import db\n", "web / channels -> conversation"),
    ("portal/services/_contract_probe.py", "import flask\n", "know nothing of Flask"),
    ("portal/models/_contract_probe.py", "from portal.services import scope\n", "web / channels -> conversation"),
    ("portal/conversation/_contract_probe.py", "from portal.channels import outbox\n", "web / channels -> conversation"),
    ("portal/web/_contract_probe.py", "from jobs import runner\n", "never reach into the scheduler"),
    ("jobs/_contract_probe.py", "from portal.web import main\n", "never web pages"),
])
def test_a_wrong_import_breaks_a_contract(probe, relative, source, contract):
    probe(relative, source)
    result = lint_imports()
    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN") or " BROKEN " in line]
    assert any(contract in line for line in broken), result.stdout[-3000:]
    assert "_contract_probe" in result.stdout
