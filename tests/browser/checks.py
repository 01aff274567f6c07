"""Accessibility checks run on every page a journey visits: axe-core plus our own rules for elders."""
from __future__ import annotations

from functools import lru_cache

BLOCKING_IMPACTS = {"serious", "critical"}
ELDER_MIN_TEXT_PX = 20
ANY_MIN_TEXT_PX = 18
ELDER_MIN_TARGET_PX = 60


@lru_cache(maxsize=1)
def _axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


# Every visible element that holds text of its own: its font size in px.
_TEXT_SIZES_JS = """
() => {
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const rect = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (rect.width === 0 || rect.height === 0 || style.visibility === 'hidden' || rect.right < 0) continue;
    if (el.closest('svg')) continue;
    out.push({tag: el.tagName.toLowerCase(), text: el.textContent.trim().slice(0, 40),
              size: parseFloat(style.fontSize)});
  }
  return out;
}
"""

# Interactive elements and their target box. A checkbox or radio counts with its label; a link
# inside running text is marked `inline` (WCAG 2.5.8 "inline" exception); the skip link is off-screen.
# `size` is the control's own text size, `own` its own width (a radio circle without its label).
TARGETS_JS = """
() => {
  const out = [];
  for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')) {
    let box = el;
    if (el.matches('input[type=checkbox], input[type=radio]')) box = el.closest('label') || el;
    const rect = box.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0 || rect.right < 0) continue;
    let inline = false;
    if (el.tagName === 'A') {
      const parent = el.parentElement;
      const text = (parent.textContent || '').replace(/\\s+/g, '');
      const own = (el.textContent || '').replace(/\\s+/g, '');
      if (['P', 'LI', 'TD', 'DD', 'SPAN'].includes(parent.tagName) && text.length > own.length
          && !el.classList.contains('button')) inline = true;
    }
    out.push({tag: el.tagName.toLowerCase(), type: el.type || '', inline: inline,
              text: (el.textContent || el.name || '').trim().slice(0, 30),
              width: Math.round(rect.width), height: Math.round(rect.height),
              own: Math.round(el.getBoundingClientRect().width), size: parseFloat(getComputedStyle(el).fontSize)});
  }
  return out;
}
"""

_FOCUS_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
  const shadow = style.boxShadow && style.boxShadow !== 'none';
  return {tag: el.tagName.toLowerCase(), text: (el.textContent || '').trim().slice(0, 30), visible: outline || shadow};
}
"""


def page_problems(page, elder: bool, focus_stops: int = 4) -> list[str]:
    """All accessibility problems on the page as it is now (empty list = fine)."""
    problems: list[str] = []
    where = page.url

    results = _axe().run(page)
    for violation in results.response["violations"]:
        if violation.get("impact") in BLOCKING_IMPACTS:
            targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
            problems.append(f"axe {violation['impact']} {violation['id']}: {violation['help']} at {targets}")

    lang = page.evaluate("() => document.documentElement.getAttribute('lang')")
    if not lang:
        problems.append("the <html> element has no lang attribute")
    h1_count = page.locator("h1").count()
    if h1_count != 1:
        problems.append(f"{h1_count} h1 elements (want exactly one)")

    scroll = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    if scroll[0] > scroll[1]:
        problems.append(f"horizontal scroll: content is {scroll[0]} px wide in a {scroll[1]} px window")

    minimum = ELDER_MIN_TEXT_PX if elder else ANY_MIN_TEXT_PX
    small = [t for t in page.evaluate(_TEXT_SIZES_JS) if t["size"] < minimum - 0.01]
    for item in small[:5]:
        problems.append(f"text {item['size']}px < {minimum}px: <{item['tag']}> {item['text']!r}")

    if elder:
        tiny = [t for t in page.evaluate(TARGETS_JS) if not t["inline"]
                and (t["width"] < ELDER_MIN_TARGET_PX - 0.5 or t["height"] < ELDER_MIN_TARGET_PX - 0.5)]
        for item in tiny[:5]:
            problems.append(f"touch target {item['width']}×{item['height']} < 60×60: <{item['tag']}> {item['text']!r}")

    # Keyboard focus must be visible on the first few tab stops.
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    for _ in range(focus_stops):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUS_JS)
        if focused and not focused["visible"]:
            problems.append(f"no visible focus on <{focused['tag']}> {focused['text']!r}")
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    return [f"{where}: {p}" for p in problems]


class PageChecker:
    """Collects problems across a journey so one run reports every page at once."""

    def __init__(self, page):
        self.page = page
        self.problems: list[str] = []
        self.visited: list[str] = []

    def check(self, elder: bool = False):
        self.visited.append(self.page.url)
        self.problems.extend(page_problems(self.page, elder))

    def assert_clean(self):
        assert not self.problems, "accessibility problems:\n" + "\n".join(self.problems)
