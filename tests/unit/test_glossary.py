"""The zh_Hans catalogue follows docs/glossary-zh.md: no banned variant in any translation."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def banned_variants() -> list[tuple[str, re.Pattern]]:
    rows = []
    for line in (ROOT / "docs" / "glossary-zh.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("Concept", "---") or not cells[3]:
            continue
        for variant in (part.strip() for part in cells[3].split(",")):
            pattern = variant[1:-1] if variant.startswith("`") else re.escape(variant)
            rows.append((cells[0], re.compile(pattern)))
    return rows


def test_the_glossary_lists_banned_variants():
    concepts = {concept for concept, _ in banned_variants()}
    assert {"community worker", "the card on the elder's door", "care tier"} <= concepts


def test_no_banned_variant_in_the_chinese_catalogue():
    with (ROOT / "locales" / "zh_Hans" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    found = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for concept, pattern in banned_variants():
            for string in strings:
                if pattern.search(string):
                    found.append((concept, message.id, string))
    assert found == []


def test_one_english_id_with_two_chinese_words_has_a_context():
    with (ROOT / "locales" / "zh_Hans" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    assert catalog.get("Next", context="button").string == "下一步"
    assert catalog.get("Next").string == "下一页"  # paging through a list
    assert catalog.get("No", context="visit").string == "没有来"
    assert catalog.get("Send the request", context="order").string == "确认下单"


# --- 您 for the elder ------------------------------------------------------------------------

# What an elder reads or hears: her pages (the elder-page templates and their partials), the request
# conversation, and every text and prompt of the SMS and voice channels.
ELDER_SOURCES = sorted({
    *(ROOT / "templates" / "elder").glob("*.html"), *(ROOT / "templates" / "requests").glob("*.html"),
    ROOT / "templates" / "visits" / "elder_confirm.html", ROOT / "templates" / "timebank" / "home.html",
    *(ROOT / "portal" / "channels").glob("sms_*.py"), *(ROOT / "portal" / "conversation").glob("*.py"),
    *(ROOT / "portal" / "channels" / name for name in ("voice.py", "visits_voice.py", "visits_sms.py",
                                                       "checkin_calls.py")),
    ROOT / "portal" / "web" / "elder.py", ROOT / "portal" / "web" / "requests.py",
})
PY_KEYWORDS = {"msg": None, "_l": None, "_": None, "gettext": None, "translate_for": (2,), "ngettext": (1, 2)}


def elder_message_ids() -> set[tuple[str | None, str]]:
    from babel.messages.extract import extract_from_file

    found = set()
    for path in ELDER_SOURCES:
        method = "jinja2" if path.suffix == ".html" else "python"
        options = {"extensions": "jinja2.ext.i18n"} if method == "jinja2" else {}
        for _line, message, _comments, context in extract_from_file(method, str(path), keywords=PY_KEYWORDS,
                                                                     options=options):
            found.add((context, message if isinstance(message, str) else message[0]))
    return found


def test_the_elders_messages_are_found():
    ids = {message for _context, message in elder_message_ids()}
    assert len(ids) > 100
    assert {"Which day?", "Did %(name)s visit you?", "My time bank", "Daily call"} <= ids  # code and pages


def test_every_chinese_string_says_nin_never_ni():
    """Polite 您 throughout the catalogue (staff screens included); 你 only ever in what people text (你好)."""
    with (ROOT / "locales" / "zh_Hans" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    found = [(message.id, message.string) for message in catalog if message.id and "你" in str(message.string)]
    assert found == []


def test_the_elder_is_nin_or_benren_never_laoren_in_what_she_reads():
    """In what the elder reads and hears she is 您 or 本人, never 老人 (about herself) or 你."""
    with (ROOT / "locales" / "zh_Hans" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    found = []
    for context, message_id in sorted(elder_message_ids(), key=str):
        message = catalog.get(message_id, context=context)
        assert message is not None and message.string, (context, message_id)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        found += [(message_id, string) for string in strings if "老人" in string or "你" in string]
    assert found == []
