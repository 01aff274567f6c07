"""The one free-text reader (portal.conversation.understand), fed real phrasings from texts and speech.

Today is Tuesday 1 December 2026 unless a row says otherwise. Each row: the phrasing, then what it
must give — service, day, half of the day, clock time, meals, destination ("-": nothing).
"""
from __future__ import annotations

from datetime import date

import pytest

from portal.conversation.understand import read_day, read_time, understand
from portal.services import DomainError

TODAY = date(2026, 12, 1)  # a Tuesday

# phrasing | service | day | half | time | meals | destination
TABLE = """
我要吃饭|meal|-|-|-|-|-
订餐|meal|-|-|-|-|-
明天送饭|meal|2026-12-02|-|-|-|-
明天中午送饭|meal|2026-12-02|-|-|lunch|-
后天晚上送个盒饭|meal|2026-12-03|-|-|dinner|-
中午和晚上都要送饭|meal|-|-|-|both|-
今天夜饭送一份|meal|2026-12-01|-|-|dinner|-
我想定餐，明天中午|meal|2026-12-02|-|-|lunch|-
大后天午饭|meal|2026-12-04|-|-|lunch|-
下周三中午送餐|meal|2026-12-09|-|-|lunch|-
星期五送饭|meal|2026-12-04|-|-|-|-
礼拜六中饭|meal|2026-12-05|-|-|lunch|-
周日晚饭|meal|2026-12-06|-|-|dinner|-
12月3日送饭|meal|2026-12-03|-|-|-|-
3号送饭|meal|2026-12-03|-|-|-|-
十二月五号中午送餐|meal|2026-12-05|-|-|lunch|-
明天打扫卫生|cleaning|2026-12-02|-|-|-|-
后天上午打扫|cleaning|2026-12-03|morning|-|-|-
帮我打整一下屋头|cleaning|-|-|-|-|-
明天下午来扫地|cleaning|2026-12-02|afternoon|-|-|-
星期四上午搞卫生|cleaning|2026-12-03|morning|-|-|-
下午3点来收拾|cleaning|-|afternoon|15:00|-|-
家政|cleaning|-|-|-|-|-
拖地|cleaning|-|-|-|-|-
后天上午陪我去医院|escort|2026-12-03|morning|-|-|hospital
陪我去卫生站|escort|-|-|-|-|clinic
明天上午9点陪我去卫生站|escort|2026-12-02|morning|09:00|-|clinic
明天上午9点半陪我看医生|escort|2026-12-02|morning|09:30|-|-
下午4点陪我去银行|escort|-|afternoon|16:00|-|bank
4点陪我去医院|escort|-|afternoon|16:00|-|hospital
3点陪我赶场|escort|-|afternoon|15:00|-|market
早上8点去医院拿药|escort|-|morning|08:00|-|hospital
周三陪我去社区医院|escort|2026-12-02|-|-|-|clinic
下周一上午十点陪我看病|escort|2026-12-07|morning|10:00|-|-
明天陪我去买菜|escort|2026-12-02|-|-|-|market
陪同|escort|-|-|-|-|-
明天下午两点半陪我去医院|escort|2026-12-02|afternoon|14:30|-|hospital
洗澡|bathing|-|-|-|-|-
明天上午洗澡|bathing|2026-12-02|morning|-|-|-
帮我擦身|bathing|-|-|-|-|-
后天下午洗个澡|bathing|2026-12-03|afternoon|-|-|-
星期六洗头|bathing|2026-12-05|-|-|-|-
你好|-|-|-|-|-|-
今天天气怎么样|-|2026-12-01|-|-|-|-
不要吃饭|-|-|-|-|-|-
我不用打扫|-|-|-|-|-|-
明天|-|2026-12-02|-|-|-|-
后天|-|2026-12-03|-|-|-|-
大后天|-|2026-12-04|-|-|-|-
今天|-|2026-12-01|-|-|-|-
下周三|-|2026-12-09|-|-|-|-
星期三|-|2026-12-02|-|-|-|-
礼拜三|-|2026-12-02|-|-|-|-
周二|-|2026-12-01|-|-|-|-
12月3日|-|2026-12-03|-|-|-|-
12月25号|-|2026-12-25|-|-|-|-
3号|-|2026-12-03|-|-|-|-
上午|-|-|morning|-|-|-
下午|-|-|afternoon|-|-|-
下午4点|-|-|afternoon|16:00|-|-
4点|-|-|afternoon|16:00|-|-
3点|-|-|afternoon|15:00|-|-
上午9点半|-|-|morning|09:30|-|-
9:30|-|-|morning|09:30|-|-
9点|-|-|morning|09:00|-|-
中午12点|-|-|afternoon|12:00|lunch|-
晚上7点|-|-|afternoon|19:00|dinner|-
凌晨3点|-|-|morning|03:00|-|-
10点一刻|-|-|morning|10:15|-|-
中午和晚上|-|-|-|-|both|-
"""
ROWS = [tuple(line.split("|")) for line in TABLE.strip().splitlines()]


def test_the_table_holds_at_least_sixty_phrasings():
    assert len(ROWS) >= 60


@pytest.mark.parametrize(("phrase", "service", "day", "half", "clock", "meals", "destination"), ROWS)
def test_phrasing_reads_as(phrase, service, day, half, clock, meals, destination):
    said = understand(phrase, TODAY)
    got = (said.service, said.day.isoformat() if said.day else None, said.half_day, said.time, said.meals,
           said.destination)
    want = tuple(None if value == "-" else value for value in (service, day, half, clock, meals, destination))
    assert got == want


def test_answers_skip_the_questions_already_answered():
    said = understand("后天上午陪我去医院", TODAY)
    assert said.answers(TODAY) == {"service": "escort", "date": "2026-12-03", "destination": "hospital"}
    said = understand("明天中午送饭，少盐", TODAY)
    assert said.answers(TODAY) == {"service": "meal", "date": "2026-12-02", "meals": "lunch", "diet": "low_salt"}
    said = understand("明天上午洗澡", TODAY)
    assert said.answers(TODAY) == {"service": "bathing", "date": "2026-12-02", "slot": "morning"}
    # a time outside the hours, or a day too far ahead, is asked again rather than taken
    assert "time" not in understand("晚上9点陪我去医院", TODAY).answers(TODAY)
    assert "date" not in understand("3月3日陪我去医院", TODAY).answers(TODAY)


def test_a_date_early_next_year_asked_in_late_december_is_next_year():
    assert read_day("1月3日", date(2026, 12, 28)) == date(2027, 1, 3)
    assert read_day("11月28日", TODAY) == date(2026, 11, 28)  # passed: refused by check_day, not moved a year
    assert read_day("3号", date(2026, 12, 20)) == date(2027, 1, 3)


def test_a_date_that_does_not_exist_is_said_so():
    with pytest.raises(DomainError):
        read_day("2月30日", TODAY)


def test_reading_a_time_needs_a_clock_word():
    assert read_time("3号") is None and read_time("3") is None and read_time("明天") is None
