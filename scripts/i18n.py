#!/usr/bin/env python3
"""Translation catalogues: `update` (extract and merge), `compile`, `missing` (list untranslated).

    python scripts/i18n.py update     # after adding or changing strings
    python scripts/i18n.py compile    # done by set-up and by the test suite
    python scripts/i18n.py missing    # what still needs a translation
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
POT = LOCALES / "messages.pot"
KEYWORDS = ["-k", "_l", "-k", "msg", "-k", "translate_for:2"]


def pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def extract() -> None:
    # Locations relative to the working copy, so that two clones (or worktrees) extract the same
    # catalogue and a merge sees only the entries that really changed.
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        pybabel("extract", "-F", "babel.cfg", *KEYWORDS, "--no-wrap", "--sort-by-file",
                "--project", "linli", "-o", str(POT), ".")
    finally:
        os.chdir(here)


def update() -> None:
    extract()
    for locale in ("zh_Hans", "en"):
        po = LOCALES / locale / "LC_MESSAGES" / "messages.po"
        if po.exists():
            pybabel("update", "-i", str(POT), "-d", str(LOCALES), "-l", locale, "--no-wrap", "--ignore-obsolete",
                    "--no-fuzzy-matching")
        else:
            pybabel("init", "-i", str(POT), "-d", str(LOCALES), "-l", locale, "--no-wrap")


def compile_catalogs() -> None:
    pybabel("compile", "-d", str(LOCALES))


def missing(locale: str = "zh_Hans") -> list[str]:
    with (LOCALES / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    return [str(m.id) for m in catalog if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)) or m.fuzzy)]


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else "update"
    if action == "update":
        update()
    elif action == "compile":
        compile_catalogs()
    elif action == "missing":
        for message_id in missing(sys.argv[2] if len(sys.argv) > 2 else "zh_Hans"):
            print(message_id)
    else:
        sys.exit(__doc__)
