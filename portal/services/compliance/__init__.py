"""Visit compliance: plan each period's obligations, complete them from verified visits, remind and
escalate, forecast, close periods into snapshots, and report.

One concern per module:

    periods      periods and their windows in local time; is a period closed
    history      obligation statuses and their history rows
    assignment   who visits: paired volunteer, spare capacity, the worker
    planning     each period's obligations for every elder (set-based)
    completion   verified visits complete obligations and silence reminders
    notices      texts and calls to visitors, workers and officers
    escalation   the escalation ladder
    actions      a worker's changes: excuse, reassign (and undo either), major event, deactivate a volunteer
    worklist     the worker's working table: filter, search, sort and page a month's visits
    receivers    reactions to portal.events signals; connect_receivers()
    figures      completion figures per community and street
    dashboard    the officer pages' figures per community, counted by the hourly job (or live)
    forecast     who will be missed this period, who is unvisited too long
    close        period close and snapshots
    trend        the monthly rate over the last months

The names below are what the rest of the app uses (`compliance.plan_visits(...)`); anything else
is imported from its module.
"""
from portal.services.compliance.actions import (
    EXCUSE_LABELS,
    MAJOR_EVENT_LABELS,
    can_undo,
    deactivate_volunteer,
    excuse,
    reassign,
    record_major_event,
    undo,
)
from portal.services.compliance.assignment import monthly_load
from portal.services.compliance.close import close_periods
from portal.services.compliance.completion import record_visit, visit_counts
from portal.services.compliance.dashboard import month_figures, refresh_community_figures, tier_counts
from portal.services.compliance.escalation import run_escalation
from portal.services.compliance.figures import (
    Community,
    CommunityRow,
    Figures,
    communities_at_full,
    communities_of,
    community_rows,
    live_figures,
    period_figures,
    rows_of,
    street_rows,
    totals,
)
from portal.services.compliance.forecast import (
    forecast,
    refresh_forecast_ranks,
    stale_counts,
    stale_counts_overview,
    stale_elders,
)
from portal.services.compliance.history import OPEN
from portal.services.compliance.periods import (
    Window,
    current_month,
    is_closed,
    local_date,
    local_midnight,
    month_window,
    next_month,
    previous_month,
    window_for,
)
from portal.services.compliance.planning import plan_visits
from portal.services.compliance.receivers import connect_receivers
from portal.services.compliance.trend import trend

__all__ = [
    "EXCUSE_LABELS",
    "MAJOR_EVENT_LABELS",
    "OPEN",
    "Community",
    "CommunityRow",
    "Figures",
    "Window",
    "close_periods",
    "can_undo",
    "communities_at_full",
    "communities_of",
    "community_rows",
    "connect_receivers",
    "current_month",
    "deactivate_volunteer",
    "excuse",
    "forecast",
    "is_closed",
    "live_figures",
    "month_figures",
    "monthly_load",
    "local_date",
    "local_midnight",
    "month_window",
    "next_month",
    "plan_visits",
    "period_figures",
    "previous_month",
    "reassign",
    "refresh_community_figures",
    "refresh_forecast_ranks",
    "record_major_event",
    "record_visit",
    "rows_of",
    "run_escalation",
    "stale_counts",
    "stale_counts_overview",
    "stale_elders",
    "street_rows",
    "tier_counts",
    "totals",
    "trend",
    "undo",
    "visit_counts",
    "window_for",
]
