"""Spreadsheet exports never write a formula (OWASP CSV injection), today and for every future
export: all of them go through portal.services.spreadsheets."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from portal.services.spreadsheets import safe_cell, write_table
from portal.services.visit_reports import build_report

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"点我\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_formula_like_cell_is_written_as_text(value):
    assert safe_cell(value) == "'" + value
    rows = [[value, 3, -4]]
    text = write_table(["名称", "数", "负数"], rows, "csv").decode("utf-8-sig")
    cell = next(csv.reader(io.StringIO(text[text.index("\n") + 1:])))[0]
    assert cell.startswith("'")
    book = load_workbook(io.BytesIO(write_table(["名称", "数", "负数"], rows, "xlsx")))
    first, number, negative = book.active[2]
    assert first.data_type == "s" and str(first.value).startswith("'")
    assert number.value == 3 and negative.value == -4  # numbers stay numbers


def test_the_visit_report_escapes_a_hostile_community_name(app, world, session):
    from datetime import datetime, timezone

    from portal.services import compliance

    world.community_a.name = "=cmd|' /C calc'!A0"
    session.flush()
    now = datetime(2026, 11, 20, 4, tzinfo=timezone.utc)
    compliance.plan_visits(session, now)
    data = build_report(session, "2026-11", [world.community_a.id], "csv", now).decode("utf-8-sig")
    assert "'=cmd" in data and "\n=cmd" not in data and ",=cmd" not in data


def test_no_export_writes_spreadsheets_except_through_the_one_helper():
    offenders = []
    for path in (ROOT / "portal").rglob("*.py"):
        if path.name == "spreadsheets.py":
            continue
        source = path.read_text(encoding="utf-8")
        if re.search(r"csv\.(writer|DictWriter)|Workbook\(|xlsxwriter", source):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"write spreadsheets with portal.services.spreadsheets.write_table: {offenders}"
