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
