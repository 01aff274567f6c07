"""Reading the spreadsheets communities keep: CSV (UTF-8 or the GBK that Chinese Excel writes) or XLSX."""
from __future__ import annotations

import csv
import io
import unicodedata
from datetime import date, datetime

from portal.i18n import _l
from portal.services import DomainError

MAX_ROWS = 50_000


def cell_text(value) -> str:
    """One cell as trimmed text: whole numbers without '.0', dates as YYYY-MM-DD, full-width forms folded."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unicodedata.normalize("NFKC", str(value)).strip()


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DomainError(_l("The file is neither UTF-8 nor GBK text."), field="file")


def read_sheet(data: bytes, filename: str) -> tuple[list[str], list[list[str]]]:
    """The header row and the data rows (as text; blank rows dropped) of the first sheet."""
    if filename.lower().endswith((".xlsx", ".xlsm")):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:
            raise DomainError(_l("The file could not be read as an Excel workbook (.xlsx)."), field="file") from None
        rows = ([cell_text(v) for v in row] for row in workbook.worksheets[0].iter_rows(values_only=True))
    elif filename.lower().endswith((".csv", ".txt")):
        rows = ([cell_text(v) for v in row] for row in csv.reader(io.StringIO(_decode(data))))
    else:
        raise DomainError(_l("Please upload a .xlsx or .csv file."), field="file")
    header: list[str] | None = None
    body: list[list[str]] = []
    for row in rows:
        if not any(row):
            continue
        if header is None:
            header = row
            continue
        body.append(row + [""] * (len(header) - len(row)))
        if len(body) > MAX_ROWS:
            raise DomainError(_l("A sheet can have at most %(max)s rows.", max=MAX_ROWS), field="file")
    if header is None:
        raise DomainError(_l("The sheet is empty."), field="file")
    return header, body


def find_column(header: list[str], names: tuple[str, ...]) -> int | None:
    """The index of the first header matching one of `names` (case and spaces ignored)."""
    wanted = {n.replace(" ", "").lower() for n in names}
    for index, title in enumerate(header):
        if title.replace(" ", "").lower() in wanted:
            return index
    return None
