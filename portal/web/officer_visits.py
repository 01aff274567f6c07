"""The officer's visit-compliance dashboard: by community and street, this month and the last,
a 12-month trend drawn as SVG on the server, communities at 100 %, elders unvisited for too long."""
from __future__ import annotations

from datetime import date

from babel.dates import format_skeleton
from flask import Blueprint, abort, render_template, request
from flask_babel import get_locale
from flask_login import current_user

from portal.access import allow
from portal.db import utcnow
from portal.models import Area
from portal.policy import policy
from portal.services import compliance
from portal.services.scope import staff_area_ids, staff_community_ids
from portal.web import db
from portal.web.downloads import visit_report_download

bp = Blueprint("officer_visits", __name__, url_prefix="/officer/visits")
OFFICER = ("officer", "admin")
# Names per community in the dashboard's forecast; the community's list has them all.
FORECAST_NAMES = 5


def month_labels(period: str, first: bool) -> tuple[str, str]:
    """A bar's month in the reader's language ("1月" / "Jan") and, under the first bar and every
    January, its year ("2026年" / "2026")."""
    year, month = (int(part) for part in period.split("-"))
    day = date(year, month, 1)
    locale = str(get_locale() or "zh_Hans")
    return (format_skeleton("MMM", day, locale=locale),
            format_skeleton("y", day, locale=locale) if first or month == 1 else "")


def trend_chart(points: list[dict]) -> dict:
    """Where the bars of the monthly-rate chart go (templates/completion/_trend_chart.html draws the SVG)."""
    width, height, left, bottom, top = 640, 220, 40, 40, 16
    bar_space = (width - left - 10) / max(len(points), 1)
    plot = height - bottom - top
    bars = []
    for index, point in enumerate(points):
        x = left + index * bar_space + bar_space * 0.15
        month, year = month_labels(point["period"], index == 0)
        bar = {"point": point, "label": month, "year": year, "x": x, "w": bar_space * 0.7,
               "title": format_skeleton("yMMM", date(*map(int, point["period"].split("-")), 1),
                                        locale=str(get_locale() or "zh_Hans"))}
        if point["rate"] is not None:
            bar["h"] = plot * point["rate"]
            bar["y"] = top + plot - bar["h"]
        bars.append(bar)
    return {"width": width, "height": height, "left": left, "label_y": height - bottom + 16,
            "year_y": height - bottom + 34, "empty_y": top + plot - 6, "bars": bars,
            "grid": [(level, top + plot * (1 - level / 100)) for level in (0, 50, 100)]}


@bp.route("/")
@allow(*OFFICER)
def index():
    """A summary at any scale: per street, and for one street (or a single-street officer) per
    community; elders unvisited too long as counts that open each community's list."""
    session = db()
    now = utcnow()
    community_ids = staff_community_ids(session, current_user)
    period = compliance.current_month(now)
    last = compliance.previous_month(period)
    places = compliance.communities_of(session, community_ids)
    figures, counted_at = compliance.month_figures(session, period, community_ids, now)  # counted hourly, or live
    rows = compliance.rows_of(places, figures)
    last_rows = {r.community_id: r for r in
                 compliance.rows_of(places, compliance.period_figures(session, last, community_ids))}
    streets = compliance.street_rows(rows)
    total = compliance.totals(rows)
    stale = compliance.stale_counts_overview(session, community_ids, now)  # counted hourly
    street_stale: dict = {}
    for row in rows:
        street_stale[row.street_id] = street_stale.get(row.street_id, 0) + stale.get(row.community_id, 0)
    chosen = request.args.get("street", "")
    street_id = int(chosen) if chosen.isdigit() and any(s["id"] == int(chosen) for s in streets) else None
    if street_id is None and len(streets) == 1:
        street_id = streets[0]["id"]
    return render_template(
        "completion/officer.html", period=period, last=last, last_rows=last_rows,
        rows=[r for r in rows if r.street_id == street_id] if street_id is not None else [],
        street=next((s for s in streets if s["id"] == street_id), None), streets=streets,
        last_streets={s["name"]: s for s in compliance.street_rows(list(last_rows.values()))},
        total=total, at_full=compliance.communities_at_full(rows),
        with_elders=sum(1 for r in rows if r.figures.due),
        chart=trend_chart(compliance.trend(session, community_ids, now, current=total)),
        stale=stale, street_stale=street_stale, stale_total=sum(stale.values()),
        stale_days=policy()["compliance"]["stale_visit_days"],
        forecast=compliance.forecast(session, period, community_ids, now, names_each=FORECAST_NAMES, rows=rows),
        area_ids=staff_area_ids(current_user), counted_at=counted_at,
    )


STALE_PAGE = 50


@bp.route("/communities/<int:community_id>/unvisited")
@allow(*OFFICER)
def unvisited(community_id: int):
    """One community's elders unvisited for too long, longest first, a page at a time."""
    if community_id not in staff_community_ids(db(), current_user):
        abort(404)
    now = utcnow()
    page = request.args.get("page", "1")
    page = min(int(page), 10_000) if page.isdigit() and int(page) > 0 else 1
    count = compliance.stale_counts(db(), [community_id], now).get(community_id, 0)
    rows = compliance.stale_elders(db(), [community_id], now, limit=STALE_PAGE, offset=(page - 1) * STALE_PAGE)
    return render_template("completion/unvisited.html", community=db().get(Area, community_id), rows=rows,
                           count=count, page=page, more=page * STALE_PAGE < count,
                           stale_days=policy()["compliance"]["stale_visit_days"])


@bp.route("/report.<fmt>")
@allow(*OFFICER)
def report(fmt: str):
    return visit_report_download(fmt, staff_community_ids(db(), current_user), "officer_visits.index")
