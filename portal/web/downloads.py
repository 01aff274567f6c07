"""File downloads several blueprints offer: the monthly visit report (worker and officer pages)."""
from __future__ import annotations

from flask import Response, abort, flash, redirect, request, url_for
from flask_login import current_user

from portal.db import utcnow
from portal.services import DomainError, audit, compliance
from portal.services.visit_reports import REPORT_MIMETYPES, build_report, report_filename
from portal.web import client_ip, commit, db


def visit_report_download(fmt: str, community_ids: list[int], back: str):
    """The report of `?period=` (default: this month) for these communities, as an audited attachment;
    a malformed or future month goes back to the `back` endpoint with a message."""
    if fmt not in REPORT_MIMETYPES:
        abort(404)
    now = utcnow()
    period = request.args.get("period") or compliance.current_month(now)
    try:
        data = build_report(db(), period, community_ids, fmt, now)
    except DomainError as error:
        flash(str(error.message))
        return redirect(url_for(back), code=303)
    audit.record(db(), current_user.id, "export", "visit_report", period, ip=client_ip(), format=fmt,
                 communities=len(community_ids))
    commit()
    return Response(data, mimetype=REPORT_MIMETYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{report_filename(period, fmt)}"'})
