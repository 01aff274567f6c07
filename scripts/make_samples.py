#!/usr/bin/env python3
"""Write the sample sheets in docs/samples/ (committed as data; run again only to change them).

    .venv/bin/python scripts/make_samples.py

elders.xlsx        a 特殊困难老年人台账 of the sample district (docs/samples/areas.csv), valid rows only
volunteers.csv     a volunteer roster (UTF-8 with BOM, as Excel saves "CSV UTF-8")
elders-with-problems.xlsx   one row for each of 20 kinds of mistake, and nothing else
"""
from __future__ import annotations

import csv
import random
import sys
from datetime import date
from pathlib import Path

from faker import Faker
from openpyxl import Workbook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal.services.identity import check_digit  # noqa: E402

SAMPLES = ROOT / "docs" / "samples"
COMMUNITIES = ["燕京社区", "桂花社区", "文庙社区", "白鹭湾社区", "河坝村"]
REGION = "510199"
ELDER_HEADER = ["序号", "姓名", "性别", "身份证号", "出生日期", "手机号码", "所属社区", "家庭住址", "居住情况", "困难类型"]


def id_number(birth: date, serial: int, male: bool) -> str:
    body = f"{REGION}{birth:%Y%m%d}{serial % 100:02d}{(serial * 2 + (1 if male else 0)) % 10}"
    return body + check_digit(body)


def elders(fake: Faker, rng: random.Random, count: int) -> list[list]:
    rows = []
    for n in range(count):
        male = rng.random() < 0.45
        birth = date(rng.randint(1926, 1964), rng.randint(1, 12), rng.randint(1, 28))
        community = COMMUNITIES[n % len(COMMUNITIES)]
        rows.append([
            n + 1, fake.name_male() if male else fake.name_female(), "男" if male else "女",
            id_number(birth, n, male), birth, f"1370{n:07d}", community,
            f"{community}{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元{rng.randint(101, 1802)}",
            rng.choice(["独居", "空巢", "留守", "与家人同住"]),
            "、".join(rng.sample(["特困", "低保", "失能", "重残", "高龄"], rng.randint(0, 2))),
        ])
    return rows


def write_xlsx(path: Path, header: list[str], rows: list[list]) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "台账"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for cell in sheet["E"][1:]:
        cell.number_format = "yyyy-mm-dd"
    # fixed workbook properties, so that running the script again gives the same file contents
    workbook.properties.creator = "Linli"
    workbook.properties.created = workbook.properties.modified = __import__("datetime").datetime(2026, 12, 1)
    workbook.save(path)


def problem_rows() -> list[list]:
    """Twenty kinds of bad row, each wrong in exactly one way (row 2 is a good row they copy from)."""
    good = date(1942, 5, 17)
    ok_id = id_number(good, 1, True)

    def row(n, **changes):
        base = {"序号": n, "姓名": "王建国", "性别": "男", "身份证号": id_number(good, n + 10, True),
                "出生日期": good.isoformat(), "手机号码": f"1371{n:07d}", "所属社区": "燕京社区",
                "家庭住址": "燕京社区3栋2单元301", "居住情况": "独居", "困难类型": "低保"}
        base.update(changes)
        return [base[title] for title in ELDER_HEADER]

    wrong_check = ok_id[:-1] + ("0" if ok_id[-1] != "0" else "1")
    return [
        row(1, 身份证号=ok_id),                                   # good: the others clash with it
        row(2, 姓名=""),                                          # 1 no name
        row(3, 姓名="王小明2号"),                                  # 2 digits in a name
        row(4, 手机号码=""),                                       # 3 no phone
        row(5, 手机号码="13712"),                                  # 4 too short
        row(6, 手机号码="无"),                                     # 5 not a number
        row(7, 手机号码="13710000001"),                            # 6 same phone as row 2
        row(8, 身份证号=wrong_check),                              # 7 wrong check digit
        row(9, 身份证号="51019919420517"),                         # 8 wrong length
        row(10, 身份证号="510199194213321234"),                    # 9 month 13 inside the number
        row(11, 身份证号=ok_id),                                   # 10 same identity number as row 2
        row(12, 所属社区="不存在社区"),                             # 11 unknown community
        row(13, 出生日期="2099-01-01", 身份证号=""),                # 12 born in the future
        row(14, 出生日期="去年", 身份证号=""),                      # 13 not a date
        row(15, 出生日期="1890-01-01", 身份证号=""),                # 14 older than anyone alive
        row(16, 出生日期="1950-02-03"),                            # 15 differs from the identity number
        row(17, 出生日期="", 身份证号=""),                          # 16 no date of birth at all
        row(18, 家庭住址=""),                                      # 17 no address
        row(19, 居住情况="群居"),                                   # 18 unknown living situation
        row(20, 困难类型="富裕"),                                   # 19 unknown hardship category
        row(21, 性别="未知"),                                      # 20 neither 男 nor 女
    ]


def main() -> None:
    fake = Faker("zh_CN")
    fake.seed_instance(2026)
    rng = random.Random(2026)
    SAMPLES.mkdir(parents=True, exist_ok=True)
    rows = elders(fake, rng, 40)
    rows[0][6] = "510199001001"  # a community may be given by its 统计用区划代码, too
    write_xlsx(SAMPLES / "elders.xlsx", ELDER_HEADER, rows)
    with (SAMPLES / "volunteers.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["姓名", "手机号码", "所属社区", "服务项目"])
        for n in range(12):
            writer.writerow([fake.name(), f"1360{n:07d}", COMMUNITIES[n % len(COMMUNITIES)],
                             "、".join(rng.sample(list("餐洁行浴"), 2)).replace("餐", "助餐").replace("洁", "助洁")
                             .replace("行", "助行").replace("浴", "助浴")])
    write_xlsx(SAMPLES / "elders-with-problems.xlsx", ELDER_HEADER, problem_rows())
    print(f"wrote {SAMPLES}/elders.xlsx, volunteers.csv, elders-with-problems.xlsx")


if __name__ == "__main__":
    main()
