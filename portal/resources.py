"""Where the app's files are: inside the package when installed from a wheel, beside it in a working copy."""
from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
WORKING_COPY = PACKAGE.parent


def asset_dir(name: str) -> Path:
    """templates, static, locales or migrations (setup.py installs each as portal/<name>)."""
    installed = PACKAGE / name
    return installed if installed.is_dir() else WORKING_COPY / name
