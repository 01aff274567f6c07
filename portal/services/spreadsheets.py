"""Every CSV and XLSX export is written here, so that no cell becomes a formula (OWASP's CSV
injection rule): a text cell that starts with = + - @, a tab or a carriage return gets a leading
apostrophe and is read as text by Excel, WPS and LibreOffice alike."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """`value`, with a text cell that a spreadsheet would run as a formula made plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_table(headers: Sequence, rows: Iterable[Sequence], fmt: str, title: str = "Sheet",
                widths: Sequence[int] = ()) -> bytes:
    """The table as CSV (UTF-8 with a BOM, so Excel reads the Chinese) or XLSX (bold headers)."""
    safe_rows = [[safe_cell(value) for value in row] for row in rows]
    safe_headers = [safe_cell(value) for value in headers]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(safe_headers)
        writer.writerows(safe_rows)
        return buffer.getvalue().encode("utf-8-sig")
    if fmt != "xlsx":
        raise ValueError(f"unknown spreadsheet format {fmt!r}")
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(safe_headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in safe_rows:
        sheet.append(row)
    for cell_row in sheet.iter_rows():
        for cell in cell_row:
            if cell.data_type == "f":  # openpyxl reads any "=…" string as a formula: never one here
                cell.data_type = "s"
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
