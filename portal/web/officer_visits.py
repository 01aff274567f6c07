"""The officer's visit-compliance dashboard: by community and street, this month and the last,
a 12-month trend drawn as SVG on the server, communities at 100 %, elders unvisited for too long."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from markupsafe import Markup, escape

from portal.access import allow
from portal.db import utcnow
from portal.i18n import _
from portal.services import compliance
from portal.services.scope import staff_area_ids, staff_community_ids
from portal.web import db
from portal.web.completion import download_report

bp = Blueprint("officer_visits", __name__, url_prefix="/officer/visits")
OFFICER = ("officer", "admin")


def _streets(rows: list[compliance.CommunityRow]) -> list[dict]:
    streets: dict = {}
    for row in rows:
        entry = streets.setdefault(row.street_id, {"name": row.street, "figures": compliance.Figures()})
        entry["figures"].add(row.figures)
    return sorted(streets.values(), key=lambda s: s["name"])


def trend_svg(points: list[dict]) -> Markup:
    """A bar chart of monthly rates: plain SVG, readable without JavaScript or colour."""
    width, height, left, bottom, top = 640, 220, 40, 40, 16
    bar_space = (width - left - 10) / max(len(points), 1)
    plot = height - bottom - top
    parts = [f'<svg class="trend" viewBox="0 0 {width} {height}" role="img" aria-labelledby="trend-title" '
             f'xmlns="http://www.w3.org/2000/svg"><title id="trend-title">{escape(_("Visit rate, last 12 months"))}</title>']
    for level in (0, 50, 100):
        y = top + plot * (1 - level / 100)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{level}%</text>')
    for index, point in enumerate(points):
        x = left + index * bar_space + bar_space * 0.15
        w = bar_space * 0.7
        label = point["period"][2:]
        parts.append(f'<text x="{x + w / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle">{label}</text>')
        if point["rate"] is None:
            continue
        h = plot * point["rate"]
        y = top + plot - h
        css = "bar live" if point["live"] else "bar"
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" class="{css}">'
                     f'<title>{point["period"]}: {point["rate"] * 100:.0f}% ({point["done"]}/{point["due"]})</title></rect>'
                     f'<text x="{x + w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" class="value">'
                     f'{point["rate"] * 100:.0f}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


@bp.route("/")
@allow(*OFFICER)
def index():
    session = db()
    now = utcnow()
    community_ids = staff_community_ids(session, current_user)
    period = compliance.current_month(now)
    last = compliance.previous_month(period)
    rows = compliance.community_rows(session, period, community_ids)
    last_rows = {r.community_id: r for r in compliance.community_rows(session, last, community_ids)}
    points = compliance.trend(session, [], community_ids, now)
    return render_template(
        "completion/officer.html", period=period, last=last, rows=rows, last_rows=last_rows,
        streets=_streets(rows), last_streets={s["name"]: s for s in _streets(list(last_rows.values()))},
        total=compliance.totals(rows), at_full=compliance.communities_at_full(rows),
        with_elders=sum(1 for r in rows if r.figures.due), chart=trend_svg(points),
        stale=compliance.stale_elders(session, community_ids, now),
        stale_days=compliance.policy()["compliance"]["stale_visit_days"],
        forecast=compliance.forecast(session, period, community_ids, now),
        area_ids=staff_area_ids(current_user),
    )


@bp.route("/report.<fmt>")
@allow(*OFFICER)
def report(fmt: str):
    return download_report(fmt, staff_community_ids(db(), current_user), "officer_visits.index")
