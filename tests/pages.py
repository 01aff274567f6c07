"""Read what a person reads on a page: the text of one element, found by id or class, parsed with
the standard library's HTML parser (no substring of the whole page, which matches "50%" for "0%")."""
from __future__ import annotations

import re
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Collector(HTMLParser):
    def __init__(self, wanted):
        super().__init__(convert_charrefs=True)
        self.wanted = wanted
        self.found: list[dict] = []   # {"tag", "attrs", "text", "children": [(tag, attrs, text)]}
        self._open: list[list] = []   # [element, depth] for each wanted element still open
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag in VOID:
            if self.wanted(tag, attrs):
                self.found.append({"tag": tag, "attrs": attrs, "text": ""})
            return
        self._depth += 1
        if self.wanted(tag, attrs):
            element = {"tag": tag, "attrs": attrs, "text": ""}
            self.found.append(element)
            self._open.append([element, self._depth])

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        while self._open and self._open[-1][1] >= self._depth:
            self._open.pop()
        self._depth -= 1

    def handle_data(self, data):
        for element, _depth in self._open:
            element["text"] += data


def elements(html: str, tag: str | None = None, id: str | None = None, cls: str | None = None) -> list[dict]:
    """Every element matching tag / id / class (one class name), with its whitespace-collapsed text."""
    def wanted(t, attrs):
        return ((tag is None or t == tag) and (id is None or attrs.get("id") == id)
                and (cls is None or cls in attrs.get("class", "").split()))

    parser = _Collector(wanted)
    parser.feed(html)
    parser.close()
    for element in parser.found:
        element["text"] = re.sub(r"\s+", " ", element["text"]).strip()
    return parser.found


def text_of(html: str, tag: str | None = None, id: str | None = None, cls: str | None = None) -> str:
    """The text of the one element matching; fails when there is none or more than one."""
    found = elements(html, tag, id, cls)
    assert len(found) == 1, f"expected one <{tag or '*'} id={id} class={cls}>, found {len(found)}"
    return found[0]["text"]


def facts(html: str, cls: str = "facts") -> dict[str, str]:
    """The <dt>→<dd> pairs of the first <dl class=cls> on the page."""
    lists = elements(html, "dl", cls=cls)
    assert lists, f"no <dl class={cls}> on the page"
    start = html.index(">", html.index(f'class="{" ".join(lists[0]["attrs"]["class"].split())}"'))
    body = html[start:html.index("</dl>", start)]
    terms = [e["text"] for e in elements(body, "dt")]
    values = [e["text"] for e in elements(body, "dd")]
    assert len(terms) == len(values), (terms, values)
    return dict(zip(terms, values))
