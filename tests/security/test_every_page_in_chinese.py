"""Every page, as every role sees it, in zh_Hans: no English catalogue id shows through (issue 11,
point 7: "under 40", "Visit rate, last 12 months" and "张伟（worker）" were seen)."""
from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from tests.conftest import ROOT
from tests.page_text import texts
from tests.security.conftest import ROLES, sign_in_as, url_values
from tests.security.test_authorization_matrix import is_webhook, routes


def _english_ids() -> list[str]:
    """Each catalogue id with two English words or more: its longest stretch without a placeholder."""
    with (ROOT / "locales" / "zh_Hans" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    found = set()
    for message in catalog:
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        for piece in re.split(r"%\([a-z_]+\)[sd]|%[sd]", msgid or ""):
            piece = piece.strip(" .,:;()")
            if len(re.findall(r"[A-Za-z]{2,}", piece)) >= 2 and len(piece) >= 8:
                found.add(piece)
    return sorted(found)


ENGLISH_IDS = _english_ids()
ROLE_WORDS = ("worker", "officer", "volunteer", "family", "elder", "admin")
# the demo password on the dev login page; a command the administrator types as it is
ALLOWED_ENGLISH = ("linli demo", "linli areas import")
LANGUAGE_BUTTON = "English"  # the language switch names English in English, on purpose


def visible_text(html: str) -> str:
    """The text a person reads: the body without scripts, styles and the language switch's own name."""
    body = html.split("<body", 1)[-1]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return " ".join(texts(body, "main") + texts(body, "header") + texts(body, "footer")).replace(LANGUAGE_BUTTON, "")


@pytest.mark.parametrize("role", ROLES)
def test_no_english_on_any_chinese_page(role, secure_world, browser, app):
    sign_in_as(browser, secure_world, role)
    values = url_values(secure_world)
    seen, problems = 0, []
    for endpoint, method, rule in routes(app):
        if method != "GET" or is_webhook(app, endpoint) or endpoint in ("static", "metrics.metrics") \
                or endpoint.startswith("downloads."):
            continue
        url = rule.build({k: v for k, v in values.items() if k in rule.arguments}, append_unknown=False)[1]
        response = browser.client.get(url)
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        seen += 1
        shown = visible_text(response.get_data(as_text=True))
        problems += [f"{url}: {msgid!r}" for msgid in ENGLISH_IDS if msgid in shown]
        problems += [f"{url}: role {word!r}" for word in ROLE_WORDS if re.search(rf"[（(]{word}[）)]", shown)]
        problems += [f"{url}: English {words!r}" for words in re.findall(r"[A-Za-z]{2,}(?:[ ,]+[A-Za-z]{2,})+", shown)
                     if words not in ALLOWED_ENGLISH]
    assert seen, "no page was rendered"
    assert not problems, "English in Chinese pages:\n" + "\n".join(problems)
