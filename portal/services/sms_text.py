"""Text that arrives by or leaves as SMS: one normal form, and cutting it without breaking a character."""
from __future__ import annotations

import re
import unicodedata

from portal import formatting

SMS_MAX_CHARS = 1600  # Twilio's limit for one (multi-part) message
_JOINERS = {"\u200d", "\u200c"}


def truncate(text: str, limit: int = SMS_MAX_CHARS) -> str:
    """At most `limit` characters, never ending inside an emoji sequence or before a combining mark."""
    if len(text) <= limit:
        return text
    cut = limit
    # Back off while the cut would split a grapheme: the next character attaches to the previous one
    # (a combining mark, a variation selector, a skin tone, a joiner) or the last kept one is a joiner.
    while cut > 0 and (
        _attaches(text[cut])
        or text[cut] in _JOINERS
        or text[cut - 1] in _JOINERS
        or _is_regional_pair_split(text, cut)
    ):
        cut -= 1
    return text[:cut]


def _attaches(char: str) -> bool:
    code = ord(char)
    if unicodedata.category(char) in ("Mn", "Mc", "Me"):
        return True
    return 0x1F3FB <= code <= 0x1F3FF  # skin-tone modifiers


def _is_regional_pair_split(text: str, cut: int) -> bool:
    """A flag is two regional-indicator letters; do not keep only the first one."""
    def regional(char: str) -> bool:
        return 0x1F1E6 <= ord(char) <= 0x1F1FF

    if not (regional(text[cut - 1]) and regional(text[cut])):
        return False
    run = 0
    index = cut - 1
    while index >= 0 and regional(text[index]):
        run += 1
        index -= 1
    return run % 2 == 1


def clean_inbound(raw: str | None, limit: int = SMS_MAX_CHARS) -> str:
    """An inbound body as we store and parse it: NFKC (full-width １ → 1, ＳＴＯＰ → STOP), no control
    characters (PostgreSQL cannot store NUL), surrounding space trimmed, at most `limit` characters."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs"))
    return truncate(text.strip(), limit)




def day_text(locale: str | None, day) -> str:
    """A date as a text says it: 12月2日（周三） / Wed 2 Dec — with the weekday, never ISO, no year
    (the one formatter, portal.formatting)."""
    return formatting.day(day, locale)


SIGNATURE = "【邻里】"
SIGNATURE_EN = "[Linli] "
_CJK = re.compile(r"[\u3400-\u9fff]")
_OLD_PREFIXES = ("邻里：", "邻里:", "Linli: ", "Linli:")


def signed(body: str) -> str:
    """Every text names its sender first, 【邻里】 (elders are taught to ignore texts from unknown senders)."""
    if not body or body.startswith(("【", "[")):
        return body
    for prefix in _OLD_PREFIXES:
        if body.startswith(prefix):
            body = body[len(prefix):].lstrip()
            break
    # the text's own language: Chinese unless Latin letters outnumber Chinese characters by far (an
    # English text may carry a Chinese name, a Chinese one an English word)
    chinese, latin = len(_CJK.findall(body)), sum(char.isascii() and char.isalpha() for char in body)
    return (SIGNATURE if chinese * 3 >= latin else SIGNATURE_EN) + body
