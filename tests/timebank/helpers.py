from __future__ import annotations

from datetime import datetime, timedelta, timezone

from portal.services import visits as visit_service

T0 = datetime(2026, 11, 10, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai


def visit(session, volunteer, elder, start=T0, minutes=90, method="door_code"):
    """A checked-out visit (waiting for the elder's answer)."""
    v = visit_service.check_in(session, volunteer, elder, method, start)
    visit_service.check_out(session, v, volunteer, start + timedelta(minutes=minutes), method)
    return v
