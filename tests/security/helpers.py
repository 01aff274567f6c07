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


def all_at_once(action, copies: int) -> list:
    """Run `action()` in `copies` threads released together; what each returned (or raised)."""
    import threading

    barrier = threading.Barrier(copies)
    outcomes: list = []

    def run():
        barrier.wait(timeout=10)
        try:
            outcomes.append(action())
        except Exception as error:  # noqa: BLE001 — the outcome under test
            outcomes.append(error)

    threads = [threading.Thread(target=run) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes
