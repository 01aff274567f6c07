"""Every word Linli understands, in one place: texts, speech results and voice menus read these sets.

Two ways of matching, both after `normalize` (NFKC, lower case, punctuation and spaces gone,
a lone 一/二/三 read as 1/2/3):

* `is_word(text, words)`: the whole text is one of the words (global commands such as STOP,
  answers such as 要得 or 没来);
* `find(text, table)` / `find_all`: the words anywhere in the text, where a longer
  word wins over the shorter ones inside it (卫生站 is a place, not 卫生 cleaning; 不要 is not 要)
  and a word right after a negation counts for nothing (不用送, 莫要, 没有摔倒 is not 摔倒 —
  except emergency words, which are never argued with).

Opt-out words are exactly the ones Twilio itself acts on (STOP, STOPALL, UNSUBSCRIBE, CANCEL,
END, QUIT, REVOKE, OPTOUT) plus 退订 / TD; no conversation word is one of them: the conversation backs out
with 取消 / 不办了, or starts again with 重来 / "start again".
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

_PUNCTUATION = re.compile(r"[\s。.!！?？,，、;；:：~～…\-—_'\"“”‘’()（）【】\[\]《》<>]+")
_SPACES = re.compile(r"\s+")
NUMERALS = {"一": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8",
            "九": "9", "零": "0", "〇": "0"}


def normalize(raw: str | None) -> str:
    """The text as keywords see it: NFKC, lower case, no punctuation; English words keep one space."""
    text = unicodedata.normalize("NFKC", raw or "").strip().lower()
    if text in ("?", "？"):
        return "?"
    # Keep a space only between two Latin letters ("help me", "start again").
    text = _PUNCTUATION.sub(" ", text).strip()
    text = re.sub(r"(?<=[a-z]) (?=[a-z])", "\0", text)
    text = _SPACES.sub("", text).replace("\0", " ")
    return NUMERALS.get(text, text)


def _words(*words: str) -> frozenset[str]:
    return frozenset(normalize(word) if word != "?" else "?" for word in words)


# ------------------------------------------------------------------ emergency (anywhere, never silenced)

EMERGENCY = _words(
    "救命", "救救我", "救我", "救命啊", "帮帮我", "快来人", "快来", "来人啊", "急救", "摔倒", "摔了一跤", "跌倒",
    "绊倒", "起不来", "爬不起来", "不舒服", "难受", "心口痛", "心口疼", "胸口痛", "胸口疼", "喘不过气", "脑壳昏",
    "头昏", "头晕", "晕倒", "着火", "失火", "煤气泄漏", "闻到煤气", "120", "sos", "help me", "emergency",
)
# "120" inside a longer number (a reference, a phone number) is not a call for an ambulance.
_DIGIT_WORD = re.compile(r"\d+")

# ------------------------------------------------------------------ global commands (whole text)

# Exactly what Twilio treats as opt-out on its numbers (it blocks every later text to the number, Linli's
# reply included, until she sends START), plus the Chinese operators' 退订 / TD (Linli's own list).
PROVIDER_STOP = _words("stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout")
STOP = PROVIDER_STOP | _words("退订", "td")
START = _words("start", "unstop", "订阅", "恢复", "恢复短信")
HELP = _words("help", "info", "帮助", "?", "帮忙", "怎么用", "咋个用", "咋用", "啥子", "看不懂", "不会用", "不懂",
              "什么意思", "啥意思")
GREETING = _words("你好", "您好", "喂", "在吗", "hello", "hi")
MENU = _words("服务", "下单", "菜单", "申请", "订服务", "menu", "order", "request", "service")

# ------------------------------------------------------------------ inside a conversation

# Backing out and starting again: words no SMS provider reserves.
CANCEL = _words("取消", "不办了", "不订了", "不弄了", "退出", "不要了", "算了", "算了嘛", "撤销")
RESTART = _words("重来", "重新来", "重新开始", "从头来", "重新", "start again", "restart", "start over")
YES = _words("1", "要", "要得", "要的", "要嘛", "可以", "行", "好", "好的", "好嘛", "对", "对的", "对头", "是",
             "是的", "嗯", "嗯嗯", "没问题", "确定", "确认", "需要", "同意", "yes", "ok", "okay", "y")
NO = _words("2", "不", "不要", "不需要", "不用", "不用了", "不要了", "莫要", "不消", "要不得", "不得行", "没得", "莫得",
            "算了", "不是", "不对", "否", "拒绝", "不行", "不同意", "no", "n", "refuse")
# Both a "no" and a way to back out: at a yes/no question they answer "no"; elsewhere they cancel.
NO_OR_CANCEL = CANCEL & NO
# Did the visit happen?
VISITED = YES | _words("来了", "来过了", "来过", "来了的", "来了嘛", "到了", "看过了")
NOT_VISITED = NO | _words("没来", "没有来", "莫来", "没得人来", "没人来", "没有人来", "没有", "没看到人")
RATING = {  # the keys said first to last: 1 good, 2 so-so, 3 not good
    "1": _words("1", "满意", "很满意", "巴适", "安逸", "很好", "好得很", "好"),
    "2": _words("2", "还可以", "将就", "一般", "还行", "马马虎虎"),
    "3": _words("3", "不满意", "撇", "不好", "差", "太差了"),
}
# Volunteers at the door: 签到 123456 / 签退 123456 (到 / 走, IN / OUT).
CHECK_IN = frozenset({"签到", "到", "in"})
CHECK_OUT = frozenset({"签退", "走", "out"})
# a volunteer asks for the 探访 record of her last visit by text (a digit per question follows)
VISIT_RECORD = _words("记录", "探访记录", "填记录", "record")
# Voice: asking for a person instead of the menu.
PERSON = _words("人工", "转人工", "工作人员", "找人", "真人", "社区", "网格员", "接线员", "operator", "person")

# ------------------------------------------------------------------ what the person wants

SERVICES: dict[str, frozenset[str]] = {
    "meal": _words("订餐", "定餐", "送餐", "送饭", "助餐", "吃饭", "午饭", "晚饭", "夜饭", "盒饭", "饭", "餐",
                   "meal", "food", "lunch", "dinner"),
    "cleaning": _words("打扫", "打扫卫生", "搞卫生", "做卫生", "保洁", "助洁", "卫生", "打整", "扫地", "拖地", "收拾",
                       "家政", "clean", "cleaning"),
    "escort": _words("陪同", "陪我", "陪", "助行", "看病", "看医生", "拿药", "开药", "去医院", "赶场", "出门", "卫生站",
                     "卫生院", "卫生服务中心", "社区医院", "escort", "walk", "clinic"),
    "bathing": _words("洗澡", "助浴", "擦身", "擦澡", "洗头", "洗个澡", "bath", "bathing", "shower"),
}
# The service each option's words select inside a question (the flow reads these).
MEALS: dict[str, frozenset[str]] = {
    "lunch": _words("午餐", "午饭", "中午", "中饭", "lunch"),
    "dinner": _words("晚餐", "晚饭", "晚上", "夜饭", "dinner", "supper"),
    "both": _words("都要", "两顿", "两顿都要", "午饭晚饭都要", "中午和晚上", "中午晚上", "午饭和晚饭", "both"),
}
DIET: dict[str, frozenset[str]] = {
    "none": _words("没有", "不用", "没得", "莫得", "都可以", "none", "no"),
    "low_salt": _words("少盐", "低盐", "清淡", "淡一点", "salt"),
    "soft": _words("软", "软一点", "烂一点", "稀饭", "soft"),
    "diabetic": _words("糖尿病", "少糖", "无糖", "不要糖", "sugar", "diabetic"),
}
HALF_DAY: dict[str, frozenset[str]] = {
    "morning": _words("上午", "早上", "早晨", "上半天", "morning"),
    "afternoon": _words("下午", "午后", "下半天", "afternoon"),
}
DESTINATIONS: dict[str, frozenset[str]] = {
    "clinic": _words("诊所", "卫生站", "卫生院", "卫生服务", "卫生服务中心", "社区医院", "clinic"),
    "hospital": _words("医院", "大医院", "hospital"),
    "market": _words("菜市场", "超市", "买菜", "赶场", "market", "shop"),
    "bank": _words("银行", "取钱", "bank"),
}
RETURN_TRIP: dict[str, frozenset[str]] = {
    "yes": _words("要", "需要", "是", "要得", "要的", "要送回家", "送回来", "接回来", "送我回家", "yes"),
    "no": _words("不要", "不用", "不需要", "莫要", "不消", "不用送", "不用送回家", "只送过去", "单程", "no"),
}
# Days and times of day (portal.conversation.understand reads them).
RELATIVE_DAYS = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "大后天": 3, "today": 0, "tomorrow": 1,
                 "day after tomorrow": 2}
WEEKDAY_PREFIXES = ("星期", "礼拜", "周")
WEEKDAY_NUMBERS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "1": 0, "2": 1, "3": 2,
                   "4": 3, "5": 4, "6": 5, "7": 6}
MORNING_MARKERS = ("上午", "早上", "早晨", "凌晨", "清早")
AFTERNOON_MARKERS = ("下午", "晚上", "傍晚", "午后")
NOON_MARKERS = ("中午",)

# A word right before another that turns it round: 不用送, 莫要, 没有摔倒.
NEGATIONS = ("不要", "不用", "不需要", "不想", "没有", "不", "没", "莫", "别", "甭", "无需")


# ------------------------------------------------------------------ matching

def is_word(text: str, words: Iterable[str]) -> bool:
    """The whole (normalized) text is one of `words`."""
    return normalize(text) in words


def _negated(text: str, start: int) -> bool:
    before = text[max(0, start - 3):start]
    return any(before.endswith(word) for word in NEGATIONS)


def _spans(text: str, table: Mapping[str, Iterable[str]], negation: bool = True) -> list[tuple[int, int, str, bool]]:
    """Non-overlapping matches, longest first: (start, end, meaning, negated)."""
    found = []
    for meaning, words in table.items():
        for word in words:
            if not word:
                continue
            for hit in re.finditer(re.escape(word), text):
                found.append((hit.start(), hit.end(), meaning, negation and _negated(text, hit.start())))
    found.sort(key=lambda item: (-(item[1] - item[0]), item[0]))
    taken: list[tuple[int, int, str, bool]] = []
    for span in found:
        if all(span[1] <= other[0] or span[0] >= other[1] for other in taken):
            taken.append(span)
    return sorted(taken)


def find_all(text: str, table: Mapping[str, Iterable[str]]) -> list[str]:
    """Every meaning of `table` the text asks for (in the order said; negated words left out)."""
    meanings: list[str] = []
    for _start, _end, meaning, negated in _spans(normalize(text), table):
        if not negated and meaning not in meanings:
            meanings.append(meaning)
    return meanings


def find(text: str, table: Mapping[str, Iterable[str]]) -> str | None:
    """The one meaning of `table` the text asks for; None when it names none, or several."""
    meanings = find_all(text, table)
    return meanings[0] if len(meanings) == 1 else None


def asks_for_person(raw: str | None) -> bool:
    """A speech result asking for a person (找人, 转人工) — not 社区医院, which is a place to go."""
    places = {**SERVICES, **DESTINATIONS}
    return find(raw or "", {"person": PERSON, **{f"place:{k}": v for k, v in places.items()}}) == "person" \
        or normalize(raw) in PERSON


def is_emergency(raw: str | None) -> bool:
    """An emergency word anywhere in a text or a speech result (never negated away: 不舒服 is one)."""
    text = normalize(raw)
    for word in EMERGENCY:
        if word.isdigit():
            if word in _DIGIT_WORD.findall(text):
                return True
        elif word in text:
            return True
    return False
