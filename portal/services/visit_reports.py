"""Visit-completion reports: one row per community, as CSV or XLSX (Chinese headers by default)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.clock import local_tz
from portal.i18n import msg, translate_for
from portal.models import Area
from portal.services.compliance import community_rows, month_window, totals
from portal.services.compliance.worklist import WorklistFilter, worklist_query
from portal.services.ledger_check import make_checkpoint
from portal.services.spreadsheets import write_table

HEADERS = [msg("Street"), msg("Community"), msg("Elders to visit"), msg("Visited"), msg("Not visited yet"),
           msg("Missed"), msg("Excused"), msg("Visit rate")]
REPORT_MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def report_filename(period: str, fmt: str) -> str:
    return f"visits-{period}.{fmt}"


def report_rows(session: Session, period: str, community_ids: list[int], now: datetime,
                locale: str = "zh_Hans") -> tuple[list[str], list[list]]:
    month_window(period, now)  # a clear error for a malformed or future month
    rows = community_rows(session, period, community_ids)
    body = []
    for row in rows:
        f = row.figures
        body.append([row.street, row.community, f.due, f.done, f.open, f.missed, f.excused,
                     "" if f.rate is None else f"{f.rate * 100:.1f}%"])
    total = totals(rows)
    body.append([translate_for(locale, "Total"), "", total.due, total.done, total.open, total.missed, total.excused,
                 "" if total.rate is None else f"{total.rate * 100:.1f}%"])
    body.append([])
    body.append(ledger_checkpoint_row(session, now, locale))
    return [translate_for(locale, header) for header in HEADERS], body


def ledger_checkpoint_row(session: Session, now: datetime, locale: str = "zh_Hans") -> list:
    """The time bank's signed checkpoint as the report prints it: the published figure anchors the
    ledger outside the database (`linli ledger check --against` takes these four values back)."""
    checkpoint = make_checkpoint(session.connection(), now)
    return [translate_for(locale, "Ledger checkpoint (signed)"),
            translate_for(locale, "entry %(entry)s", entry=checkpoint["entry_id"]),
            checkpoint["at"], checkpoint["hash"], checkpoint["signature"]]


def build_report(session: Session, period: str, community_ids: list[int], fmt: str, now: datetime,
                 locale: str = "zh_Hans") -> bytes:
    headers, body = report_rows(session, period, community_ids, now, locale)
    return write_table(headers, body, fmt, title=period, widths=(14, 16, 12, 10, 12, 10, 10, 10))


LIST_HEADERS = [msg("Name"), msg("Community"), msg("Tier"), msg("State"), msg("Visitor"), msg("Last visit"),
                msg("Due by")]


def worklist_report(session: Session, period: str, community_ids: list[int], chosen: WorklistFilter, fmt: str,
                    now: datetime, labels: dict[str, dict[str, str]], locale: str = "zh_Hans") -> tuple[bytes, int]:
    """Exactly the rows the worker's filter picks, in its order (all pages), and how many."""
    month_window(period, now)
    names = dict(session.execute(select(Area.id, Area.name).where(Area.id.in_(community_ids or [-1]))).all())

    def day(moment):
        return "" if moment is None else moment.astimezone(local_tz()).date().isoformat()

    body = [[row.name, names.get(row.community_id, ""), labels["tier"].get(row.tier, row.tier),
             labels["state"].get(row.state, row.state), row.visitor or "", day(row.last_visit_at),
             day(row.due_at - timedelta(seconds=1))]
            for row in session.execute(worklist_query(period, community_ids, chosen, now))]
    headers = [translate_for(locale, header) for header in LIST_HEADERS]
    return write_table(headers, body, fmt, title=period, widths=(12, 14, 10, 10, 12, 12, 12)), len(body)
