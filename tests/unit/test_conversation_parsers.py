"""The conversation's parsers, table by table: days and times typed in Chinese and English, the
day options (今天 / 明天 / 后天) across a month's and a year's end, and option matching.

Every case names the moment it is asked at; nothing here reads the clock.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from portal.clock import local_tz
from portal.conversation import flows
from portal.conversation.engine import FLOWS, NoMatch, match_option, parse, parse_date, parse_time
from portal.services import DomainError

FLOW = FLOWS[flows.REQUEST_FLOW]
DATE_STEP, TIME_STEP, SERVICE_STEP = FLOW.steps["date"], FLOW.steps["time"], FLOW.steps["service"]

DEC_28 = date(2026, 12, 28)
MID_MONTH = date(2026, 11, 14)

PASSED = "already passed"
NOT_A_DATE = "does not exist"
TOO_FAR = "next two months"
TIME_RANGE = "between 6:00 and 20:00"


@pytest.mark.parametrize("raw, today, expected", [
    # Chinese month and day, with and without 日/号
    ("11月20日", MID_MONTH, date(2026, 11, 20)),
    ("11月20号", MID_MONTH, date(2026, 11, 20)),
    ("11月14日", MID_MONTH, date(2026, 11, 14)),            # today itself
    ("十一月二十日", MID_MONTH, date(2026, 11, 20)),
    ("12月3日", MID_MONTH, date(2026, 12, 3)),
    # across the year's end: asked on 28 December, January is next year
    ("1月3日", DEC_28, date(2027, 1, 3)),
    ("1月3号", DEC_28, date(2027, 1, 3)),
    ("一月三日", DEC_28, date(2027, 1, 3)),
    ("1/3", DEC_28, date(2027, 1, 3)),
    ("1-3", DEC_28, date(2027, 1, 3)),
    ("12月31日", DEC_28, date(2026, 12, 31)),
    ("2月26日", DEC_28, date(2027, 2, 26)),                 # 60 days ahead: the last day allowed
    # a full date
    ("2027-01-03", DEC_28, date(2027, 1, 3)),
    ("2027年1月3日", DEC_28, date(2027, 1, 3)),
    ("2026/11/20", MID_MONTH, date(2026, 11, 20)),
    # the day of the month alone: this month, or the next once it has passed
    ("20号", MID_MONTH, date(2026, 11, 20)),
    ("3号", MID_MONTH, date(2026, 12, 3)),
    ("3号", DEC_28, date(2027, 1, 3)),
    ("三十日", DEC_28, date(2026, 12, 30)),
    # English
    ("Jan 3", DEC_28, date(2027, 1, 3)),
    ("January 3rd", DEC_28, date(2027, 1, 3)),
    ("3 January", DEC_28, date(2027, 1, 3)),
    ("3rd of Jan", DEC_28, date(2027, 1, 3)),
    ("Nov 20, 2026", MID_MONTH, date(2026, 11, 20)),
    ("  11月20日。 ", MID_MONTH, date(2026, 11, 20)),      # spaces and a full stop around it
])
def test_parse_date_reads_the_day(raw, today, expected):
    assert parse_date(raw, today) == expected


@pytest.mark.parametrize("raw, today, complaint", [
    ("12月27日", DEC_28, PASSED),
    ("12月1日", DEC_28, PASSED),
    ("2026-12-27", DEC_28, PASSED),
    ("2025-01-03", DEC_28, PASSED),
    ("11月13日", MID_MONTH, PASSED),
    ("2月30日", DEC_28, NOT_A_DATE),
    ("13月1日", MID_MONTH, NOT_A_DATE),
    ("11月31日", MID_MONTH, NOT_A_DATE),
    ("2月27日", DEC_28, TOO_FAR),                           # 61 days ahead
    ("3月1日", DEC_28, TOO_FAR),                            # March is next year's, too far ahead
    ("2027-12-28", DEC_28, TOO_FAR),
    ("Feb 27", DEC_28, TOO_FAR),
])
def test_parse_date_refuses_with_the_reason(raw, today, complaint):
    with pytest.raises(DomainError, match=complaint) as refused:
        parse_date(raw, today)
    assert refused.value.field == "date"


@pytest.mark.parametrize("raw", ["", "下周", "soon", "Foo 3", "1月", "3", "12:30"])
def test_parse_date_does_not_guess(raw):
    with pytest.raises(NoMatch):
        parse_date(raw, DEC_28)


@pytest.mark.parametrize("raw, expected", [
    # a bare hour from 1 to 6 is in the afternoon
    ("3点", "15:00"),
    ("4点", "16:00"),
    ("1点", "13:00"),
    ("6点", "18:00"),
    ("3点半", "15:30"),
    ("3:30", "15:30"),
    ("三点", "15:00"),
    ("两点", "14:00"),
    ("三点一刻", "15:15"),
    # later hours are what they say
    ("7点", "07:00"),
    ("9点", "09:00"),
    ("10点30", "10:30"),
    ("10点30分", "10:30"),
    ("十点", "10:00"),
    ("12点", "12:00"),
    ("15:30", "15:30"),
    ("15：30", "15:30"),                                     # full-width colon
    ("8:05", "08:05"),
    ("20点", "20:00"),
    ("20:00", "20:00"),
    # said in so many words
    ("下午3点", "15:00"),
    ("下午三点半", "15:30"),
    ("下午3:45", "15:45"),
    ("晚上7点", "19:00"),
    ("傍晚6点", "18:00"),
    ("上午9点", "09:00"),
    ("上午10点半", "10:30"),
    ("早上6点", "06:00"),
    ("早上7点", "07:00"),
    ("中午12点", "12:00"),
    ("中午1点", "13:00"),
    ("下午12点", "12:00"),
    # English
    ("3pm", "15:00"),
    ("3 pm", "15:00"),
    ("3:30 p.m.", "15:30"),
    ("9am", "09:00"),
    ("9 a.m.", "09:00"),
    ("12pm", "12:00"),
    ("10 o'clock", "10:00"),
])
def test_parse_time_reads_the_time(raw, expected):
    assert parse_time(raw) == expected


@pytest.mark.parametrize("raw", ["凌晨3点", "上午3点", "早上5点", "3am", "0点", "5:59 am", "21点", "20:01", "晚上9点",
                                 "23:00", "12am", "25点", "10:60"])
def test_parse_time_refuses_hours_outside_the_day(raw):
    with pytest.raises(DomainError, match=TIME_RANGE) as refused:
        parse_time(raw)
    assert refused.value.field == "time"


@pytest.mark.parametrize("raw", ["", "下午", "soon", "3点钟以后", "百点", "3:3:3", "pm"])
def test_parse_time_does_not_guess(raw):
    with pytest.raises(NoMatch):
        parse_time(raw)


def _asked_at(year, month, day, hour, minute) -> date:
    """The elder's calendar day (Shanghai) at a moment given in UTC, as `answer` computes it."""
    return datetime(year, month, day, hour, minute, tzinfo=timezone.utc).astimezone(local_tz()).date()


@pytest.mark.parametrize("raw, today, expected", [
    ("今天", DEC_28, "2026-12-28"),
    ("明天", DEC_28, "2026-12-29"),
    ("后天", DEC_28, "2026-12-30"),
    ("tomorrow", DEC_28, "2026-12-29"),
    ("the day after tomorrow", DEC_28, "2026-12-30"),
    ("明天吧", DEC_28, "2026-12-29"),
    ("2", DEC_28, "2026-12-29"),                            # the second option
    ("明天", date(2026, 12, 31), "2027-01-01"),
    ("后天", date(2026, 12, 31), "2027-01-02"),
    ("明天", date(2027, 2, 28), "2027-03-01"),
    # 23:30 UTC on 31 December is already 1 January in Shanghai
    ("明天", _asked_at(2026, 12, 31, 16, 30), "2027-01-02"),
    ("今天", _asked_at(2026, 12, 31, 15, 59), "2026-12-31"),
    # typed days go through parse_date
    ("1月3日", DEC_28, "2027-01-03"),
    ("Jan 3", DEC_28, "2027-01-03"),
])
def test_the_day_step_reads_options_and_typed_days(raw, today, expected):
    assert parse(DATE_STEP, raw, today) == expected


@pytest.mark.parametrize("raw, expected", [
    ("1", "09:00"),                                          # options by number (four: a voice menu reads no more)
    ("4", "15:00"),
    ("下午3点", "15:00"),
    ("上午9点", "09:00"),
    ("3点", "15:00"),
    ("下午3点半", "15:30"),                                  # not the option "下午3点" it contains
    ("15:30", "15:30"),
    ("9", "09:00"),                                          # no ninth option: a typed hour
    ("3 in the afternoon", "15:00"),
    ("9 in the morning", "09:00"),
])
def test_the_time_step_reads_options_and_typed_times(raw, expected):
    assert parse(TIME_STEP, raw, DEC_28) == expected


def test_the_time_step_refuses_a_night_time():
    with pytest.raises(DomainError, match=TIME_RANGE):
        parse(TIME_STEP, "凌晨3点", DEC_28)


def test_typed_answers_are_refused_where_only_options_count():
    with pytest.raises(NoMatch):
        parse(TIME_STEP, "3点", DEC_28, allow_free=False)
    with pytest.raises(NoMatch):
        parse(DATE_STEP, "1月3日", DEC_28, allow_free=False)


@pytest.mark.parametrize("raw, expected", [
    ("1", "meal"),
    ("订餐", "meal"),
    ("我要订餐", "meal"),
    ("打扫", "cleaning"),
    ("帮我打扫一下卫生", "cleaning"),
    ("陪我去看病", "escort"),
    ("洗澡", "bathing"),
    ("Meal", "meal"),
    ("cleaning please", "cleaning"),
    ("walk", "escort"),
    ("订餐。", "meal"),
])
def test_service_keywords(raw, expected):
    assert match_option(SERVICE_STEP, raw).value == expected


@pytest.mark.parametrize("raw", ["", "0", "9", "你好", "hello"])
def test_service_answers_that_match_nothing(raw):
    assert match_option(SERVICE_STEP, raw) is None
