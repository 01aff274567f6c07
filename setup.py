"""Packaging beyond what pyproject.toml can say: the app's assets as package data, catalogues compiled.

templates/, static/, locales/ and migrations/ stay at the top of the working copy (where the tools and
docs expect them) and are installed inside the package as portal/templates, portal/static,
portal/locales and portal/migrations. `portal.resources` finds them in either place.
"""
from __future__ import annotations

from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
ASSETS = {"templates": ["**/*.html"], "static": ["**/*"], "locales": ["*.pot", "**/*.po", "**/*.mo"],
          "migrations": ["*.py", "*.mako", "versions/*.py"]}


class BuildWithCatalogues(build_py):
    """Compile the Babel catalogues (.po → .mo) before the files are collected."""

    def run(self):
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po_path in (ROOT / "locales").glob("*/LC_MESSAGES/messages.po"):
            with po_path.open("rb") as handle:
                catalog = read_po(handle)
            with po_path.with_suffix(".mo").open("wb") as handle:
                write_mo(handle, catalog)
        super().run()


setup(
    packages=find_packages(include=["portal", "portal.*", "jobs", "jobs.*"]) + [f"portal.{name}" for name in ASSETS],
    package_dir={f"portal.{name}": name for name in ASSETS},
    package_data={f"portal.{name}": patterns for name, patterns in ASSETS.items()},
    include_package_data=True,
    cmdclass={"build_py": BuildWithCatalogues},
)
