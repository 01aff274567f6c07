"""Jinja helpers: labels, masking, local times, text size."""
from __future__ import annotations

from datetime import datetime

from flask import current_app, g, request
from flask.globals import _cv_app
from flask_babel import format_date, get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from portal import formatting, labels
from portal.request_scope import db
from portal.services.inbox import hotline_for, hotline_from_row
from portal.services.phones import display_phone, mask_phone

TEXT_SIZES = ("normal", "large", "xlarge")

# Where "home" is for each role, in the order a person with several roles lands.
HOME_ENDPOINTS = (
    ("worker", "worker.home"),
    ("officer", "officer.home"),
    ("admin", "admin.home"),
    ("volunteer", "volunteer.home"),
    ("family", "family.home"),
    ("elder", "elder.home"),
)


def hotline() -> str:
    """An elder's own community hotline, so the footer and the page above it give her one number
    (staff pages keep the configured one: it costs them no queries)."""
    default = current_app.config["LINLI_HOTLINE"]
    if not (current_user.is_authenticated and current_user.has_role("elder")):
        return default
    if "linli_hotline" not in g:
        columns = g.get("linli_hotline_columns")  # read with the signed-in person (web.auth)
        g.linli_hotline = (hotline_from_row(db(), current_user, columns, default) if columns is not None
                           else hotline_for(db(), current_user, default))
    return g.linli_hotline


def text_size() -> str:
    size = request.cookies.get("linli_size", "normal")
    return size if size in TEXT_SIZES else "normal"


def html_lang() -> str:
    locale = str(get_locale() or "zh_Hans")
    return "en" if locale.startswith("en") else "zh-Hans"


def _locale() -> str:
    return str(get_locale() or "zh_Hans")


def local_time(value: datetime | None) -> str:
    """A moment in local time, the one way (portal.formatting): 12月1日（周二） 11:30."""
    if value is None:
        return ""
    # Long lists show the same moment many times (every obligation of a period is due at once):
    # format each moment once per request.
    cache = g.setdefault("local_time_cache", {})
    text = cache.get(value)
    if text is None:
        text = cache[value] = formatting.when(value, _locale())
    return text


def csrf_token() -> str:
    """flask_wtf's generate_csrf, which keeps the request's token in g: read it from there directly
    (a list page has a form per row, and generate_csrf reads the config and g through proxies)."""
    app_context = _cv_app.get(None)
    token = getattr(app_context.g, "csrf_token", None) if app_context is not None else None
    return token if token is not None else generate_csrf()


def role_homes() -> list[tuple[str, str]]:
    if not current_user.is_authenticated:
        return []
    roles = current_user.roles()
    seen, homes = set(), []
    for role, endpoint in HOME_ENDPOINTS:
        if role in roles and endpoint not in seen:
            seen.add(endpoint)
            homes.append((role, endpoint))
    return homes


def register_template_helpers(app) -> None:
    app.jinja_env.globals.update(
        labels=labels,
        text_size=text_size,
        html_lang=html_lang,
        role_homes=role_homes,
        # "：" in Chinese, ": " in English (full-width punctuation in Chinese text)
        colon=lambda: ": " if _locale().startswith("en") else "：",
        # pages every person has (the time bank) wear the elder's large styling for an elder
        elder_styling=lambda: current_user.is_authenticated and current_user.has_role("elder"),
        dev_tools=lambda: current_app.config["LINLI_DEV_TOOLS"],
        demo_mode=lambda: current_app.config["LINLI_DEMO"],
        hotline=hotline,
        csrf_token=csrf_token,
    )
    app.jinja_env.filters.update(
        mask_phone=mask_phone,
        display_phone=display_phone,
        local_time=local_time,
        day=lambda value, with_year=False: formatting.day(value, _locale(), with_year),
        time_range=lambda start, end: formatting.time_range(start, end, _locale()),
        percent=lambda fraction: formatting.percent(fraction, _locale()),
        local_day=lambda value: formatting.day(value, _locale()),
        month_name=lambda year_month: formatting.month(f"{year_month[0]:04d}-{year_month[1]:02d}", _locale()),
        month=lambda period: formatting.month(period, _locale()),
        date=lambda value, fmt="medium": format_date(value, fmt) if value else "",
    )
