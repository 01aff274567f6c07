"""What a person reads on a page: the text of elements picked by tag and/or class (stdlib parser)."""
from __future__ import annotations

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Picker(HTMLParser):
    def __init__(self, tag: str | None, cls: str | None):
        super().__init__(convert_charrefs=True)
        self.tag, self.cls = tag, cls
        self.open: list[list[str] | None] = []   # one entry per open element: collected text or None
        self.found: list[str] = []

    def _matches(self, tag: str, attrs) -> bool:
        classes = (dict(attrs).get("class") or "").split()
        return (self.tag is None or tag == self.tag) and (self.cls is None or self.cls in classes)

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        self.open.append([] if self._matches(tag, attrs) else None)

    def handle_endtag(self, tag):
        if tag in VOID or not self.open:
            return
        parts = self.open.pop()
        if parts is not None:
            self.found.append(" ".join(" ".join(parts).split()))

    def handle_data(self, data):
        for parts in self.open:
            if parts is not None:
                parts.append(data)


def texts(html: str, tag: str | None = None, cls: str | None = None) -> list[str]:
    """The visible text of every element with this tag and/or class, in document order (outer first
    closes last, so nested matches come before their parent)."""
    picker = _Picker(tag, cls)
    picker.feed(html)
    return picker.found


def text(html: str, tag: str | None = None, cls: str | None = None) -> str:
    found = texts(html, tag, cls)
    return found[-1] if found else ""
