"""The local time zone: the one place it is named. Times are stored in UTC and shown, planned and
parsed in this zone (LINLI_TIMEZONE, Asia/Shanghai by default)."""
from __future__ import annotations

import os
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Shanghai"

_zone = ZoneInfo(os.environ.get("LINLI_TIMEZONE") or DEFAULT_TIMEZONE)


def local_tz() -> ZoneInfo:
    """The zone Linli plans and speaks in."""
    return _zone


def local_tz_name() -> str:
    return _zone.key


def set_local_timezone(name: str) -> None:
    """Called by create_app with the configured LINLI_TIMEZONE."""
    global _zone
    _zone = ZoneInfo(name)
