"""The officer's visit-compliance dashboard: by community and street, this month and the last,
a 12-month trend drawn as SVG on the server, communities at 100 %, elders unvisited for too long."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from portal.access import allow
from portal.db import utcnow
from portal.policy import policy
from portal.services import compliance
from portal.services.scope import staff_area_ids, staff_community_ids
from portal.web import db
from portal.web.downloads import visit_report_download

bp = Blueprint("officer_visits", __name__, url_prefix="/officer/visits")
OFFICER = ("officer", "admin")


def trend_chart(points: list[dict]) -> dict:
    """Where the bars of the monthly-rate chart go (templates/completion/_trend_chart.html draws the SVG)."""
    width, height, left, bottom, top = 640, 220, 40, 40, 16
    bar_space = (width - left - 10) / max(len(points), 1)
    plot = height - bottom - top
    bars = []
    for index, point in enumerate(points):
        x = left + index * bar_space + bar_space * 0.15
        bar = {"point": point, "label": point["period"][2:], "x": x, "w": bar_space * 0.7}
        if point["rate"] is not None:
            bar["h"] = plot * point["rate"]
            bar["y"] = top + plot - bar["h"]
        bars.append(bar)
    return {"width": width, "height": height, "left": left, "label_y": height - bottom + 16, "bars": bars,
            "grid": [(level, top + plot * (1 - level / 100)) for level in (0, 50, 100)]}


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
    return render_template(
        "completion/officer.html", period=period, last=last, rows=rows, last_rows=last_rows,
        streets=compliance.street_rows(rows),
        last_streets={s["name"]: s for s in compliance.street_rows(list(last_rows.values()))},
        total=compliance.totals(rows), at_full=compliance.communities_at_full(rows),
        with_elders=sum(1 for r in rows if r.figures.due),
        chart=trend_chart(compliance.trend(session, community_ids, now)),
        stale=compliance.stale_elders(session, community_ids, now),
        stale_days=policy()["compliance"]["stale_visit_days"],
        forecast=compliance.forecast(session, period, community_ids, now),
        area_ids=staff_area_ids(current_user),
    )


@bp.route("/report.<fmt>")
@allow(*OFFICER)
def report(fmt: str):
    return visit_report_download(fmt, staff_community_ids(db(), current_user), "officer_visits.index")
