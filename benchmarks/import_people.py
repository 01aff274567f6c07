#!/usr/bin/env python3
"""How long a 10,000-row 特殊困难老年人台账 takes to import (check every row, then write), and the re-import.

    .venv/bin/python benchmarks/import_people.py                      # SQLite in a temp folder
    .venv/bin/python benchmarks/import_people.py --rows 10000 --database-url postgresql+psycopg://…/linli_bench

The database must be empty (or throwaway): the sample areas and the generated elders are written to it.
Prints the figures; the target is under a minute for 10,000 rows.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    from faker import Faker
    from make_samples import ELDER_HEADER, elders, id_number

    from portal import create_app, migrate
    from portal.services.sheets import read_sheet

    folder = Path(tempfile.mkdtemp(prefix="linli-import-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
    fake = Faker("zh_CN")
    fake.seed_instance(1)
    rows = elders(fake, random.Random(1), args.rows)
    from datetime import date, timedelta

    for n, row in enumerate(rows):
        row[5] = f"139{n:08d}"
        row[4] = date(1926, 1, 1) + timedelta(days=n * 3)  # one elder per birth date: unique identity numbers
        row[3] = id_number(row[4], n, row[2] == "男")
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(ELDER_HEADER)
    for row in rows:
        sheet.append(row)
    path = folder / "elders.xlsx"
    workbook.save(path)
    print(f"sheet: {args.rows} rows, {path.stat().st_size // 1024} KiB ({url.split(':')[0]})")

    app = create_app({"LINLI_DATABASE_URL": url, "LINLI_REDIS_URL": "", "SECRET_KEY": "bench"})
    migrate.upgrade(url)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["areas", "import", str(ROOT / "docs" / "samples" / "areas.csv")])
    assert result.exit_code == 0, result.output

    started = time.perf_counter()
    read_sheet(path.read_bytes(), path.name)
    print(f"read the sheet: {time.perf_counter() - started:.1f} s")
    for label in ("first import", "same sheet again"):
        started = time.perf_counter()
        result = runner.invoke(args=["people", "import", str(path), "--community", "燕京社区"])
        elapsed = time.perf_counter() - started
        assert result.exit_code == 0, result.output[-2000:]
        print(f"{label}: {elapsed:.1f} s  {result.output.strip().splitlines()[-1]}")
    app.extensions["linli"].engine.dispose()


if __name__ == "__main__":
    main()
