"""Contrast of our palette, computed (WCAG 2.x relative luminance): every text/background pair
the stylesheet uses is at least 4.5:1."""
from __future__ import annotations

import re
from pathlib import Path

CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "linli.css"

# (foreground, background, where it is used). Names are custom properties; literals are hex colours.
PAIRS = [
    ("--text", "--bg", "body text"),
    ("--muted", "--bg", "hints"),
    ("--primary", "--bg", "links, outline buttons"),
    ("--primary-text", "--primary", "header, primary buttons"),
    ("--danger", "--bg", "error messages"),
    ("#fff", "--danger", "danger buttons"),
    ("--ok", "--bg", "general tier tag"),
    ("#7a4b00", "--bg", "special-hardship tier tag"),
    ("--text", "--panel", "tiles and cards"),
    ("--primary", "--panel", "tile titles"),
    ("--muted", "--panel", "hints on cards"),
    ("--danger", "#fdecec", "emergency tile title"),
    ("--text", "#fdecec", "emergency tile hint"),
    ("--text", "--warn-bg", "notices"),
    ("--primary", "--warn-bg", "links in notices"),
    ("--bg", "--text", "pressed switch buttons"),
]


def palette() -> dict[str, str]:
    root = re.search(r":root\s*{([^}]*)}", CSS.read_text()).group(1)
    return dict(re.findall(r"(--[\w-]+)\s*:\s*(#[0-9a-fA-F]{3,6})", root))


def _rgb(hex_colour: str) -> tuple[float, ...]:
    value = hex_colour.lstrip("#")
    if len(value) == 3:
        value = "".join(ch * 2 for ch in value)
    return tuple(int(value[i:i + 2], 16) / 255 for i in (0, 2, 4))


def luminance(hex_colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(hex_colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_formula_matches_known_values():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48  # the classic "just fails" grey


def test_every_pair_in_the_palette_reaches_4_5_to_1():
    colours = palette()
    resolve = lambda name: colours[name] if name.startswith("--") else name  # noqa: E731
    report = []
    for fg, bg, where in PAIRS:
        ratio = contrast(resolve(fg), resolve(bg))
        if ratio < 4.5:
            report.append(f"{where}: {fg} on {bg} is {ratio:.2f}:1")
    assert not report, "\n".join(report)


def test_the_documented_ratios_in_the_stylesheet_are_true():
    """Comments such as '/* 8.6:1 on white */' must not lie."""
    text = CSS.read_text()
    for name, value, claimed in re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{6});\s*/\*\s*([\d.]+):1 on white", text):
        assert abs(contrast(value, "#ffffff") - float(claimed)) < 0.06, (name, value, claimed)
