"""Reading what a person reads on a page: the error summary above a form."""
from __future__ import annotations

import html
import re

_SUMMARY = re.compile(r'<div class="error-summary"[^>]*>(.*?)</div>', re.S)


def error_summary(response) -> str:
    """The text of the form's error summary; fails when the page has none."""
    match = _SUMMARY.search(response.get_data(as_text=True))
    assert match, "the form came back without an error summary"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())
