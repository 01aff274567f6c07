"""`linli areas import`: the area tree from a sheet, idempotent, by code; the dry run writes nothing."""
from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import func, select

from portal.models import Area

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"


def _import(app, path, *options):
    return app.test_cli_runner().invoke(args=["areas", "import", str(path), *options])


def _tree(session):
    session.expire_all()
    return sorted((a.id, a.level, a.name, a.path, a.code, a.hotline, tuple(a.grids or ()))
                  for a in session.scalars(select(Area)))


def test_sample_sheet_imports_once_and_the_second_import_changes_nothing(app, session):
    result = _import(app, SAMPLES / "areas.csv")
    assert result.exit_code == 0, result.output
    tree = _tree(session)
    assert [row[1] for row in tree].count("community") == 5
    assert [row[1] for row in tree].count("street") == 2
    yanjing = session.scalar(select(Area).where(Area.name == "燕京社区"))
    assert yanjing.code == "510199001001" and yanjing.grids == ["第一网格", "第二网格"]
    assert yanjing.parent.code == "510199001000" and yanjing.parent.parent.code == "510199000000"
    assert yanjing.path == f"/{yanjing.parent.parent.id}/{yanjing.parent.id}/{yanjing.id}/"
    again = _import(app, SAMPLES / "areas.csv")
    assert again.exit_code == 0 and "no changes" in again.output
    assert _tree(session) == tree


def test_dry_run_prints_changes_and_writes_nothing(app, session):
    result = _import(app, SAMPLES / "areas.csv", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "create" in result.output and "燕京社区" in result.output and "nothing written" in result.output
    assert session.scalar(select(func.count()).select_from(Area)) == 0


def test_renamed_community_keeps_its_id_by_its_code(app, session, tmp_path):
    assert _import(app, SAMPLES / "areas.csv").exit_code == 0
    before = session.scalar(select(Area).where(Area.code == "510199001002")).id
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["district", "street", "community", "code"])
    sheet.append(["临溪区", "青石街道", "丹桂社区", 510199001002])  # a number cell, as Excel keeps it
    renamed = tmp_path / "renamed.xlsx"
    workbook.save(renamed)
    dry = _import(app, renamed, "--dry-run")
    assert "rename" in dry.output and "桂花社区" in dry.output
    assert session.get(Area, before).name == "桂花社区"
    assert _import(app, renamed).exit_code == 0
    session.expire_all()
    assert session.get(Area, before).name == "丹桂社区"
    assert session.scalar(select(func.count()).where(Area.level == "community")) == 5


def test_every_bad_row_is_reported_and_nothing_written(app, session, tmp_path):
    sheet = tmp_path / "bad.csv"
    sheet.write_text("区,街道,社区,热线,统计用区划代码\n"
                     "临溪区,,燕京社区,,510199001001\n"
                     "临溪区,青石街道,桂花社区,not a phone,5101990010\n"
                     "临溪区,青石街道,文庙社区,,510199001000\n"
                     "临溪区,青石街道,好社区,,510199001005\n"
                     "临溪区,青石街道,又一社区,,510199001005\n", encoding="utf-8")
    result = _import(app, sheet)
    assert result.exit_code == 1
    for expected in ("row 2", "row 3: the 统计用区划代码", "row 3: hotline", "row 4", "row 6: code"):
        assert expected in result.output, result.output
    assert session.scalar(select(func.count()).select_from(Area)) == 0


def test_gbk_csv_from_excel_is_read(app, session, tmp_path):
    sheet = tmp_path / "gbk.csv"
    sheet.write_bytes("区,街道,社区\r\n临溪区,青石街道,燕京社区\r\n".encode("gbk"))
    assert _import(app, sheet).exit_code == 0
    assert session.scalar(select(Area.name).where(Area.level == "community")) == "燕京社区"
