"""The benchmark's arithmetic, kept free of the app so tests can check it: growth per doubling, the
verdict of a target, and the warnings a quick run prints against the committed baseline."""
from __future__ import annotations

import math

HOLDS, FAILS = "holds", "does not hold"
FLAT_PER_DOUBLING = 1.3      # a page serving one person or one community
LINEAR_PER_DOUBLING = 2.0    # a district page or job: at most linear (noise allowance below)
NOISE = 1.15                 # timings on a shared 2-core machine: 15 % either way is not a trend
WARN_FACTOR = 10.0           # a quick run warns when a page's ratio is ten times the baseline's


def verdict(value: float | None, limit: float, why_not: str = "") -> str:
    """"holds" when value ≤ limit, "does not hold" otherwise, "not measured: …" without a value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"not measured: {why_not or 'no figure'}"
    return HOLDS if value <= limit else FAILS


def per_doubling(points: list[tuple[float, float]]) -> float | None:
    """The factor a figure grows by each time the size doubles: 2 ** (slope of log2 value on log2
    size), least squares over every point. None with fewer than two sizes or a non-positive value."""
    usable = sorted((n, v) for n, v in points if n and n > 0 and v is not None and v > 0)
    if len({n for n, _ in usable}) < 2:
        return None
    xs = [math.log2(n) for n, _ in usable]
    ys = [math.log2(v) for _, v in usable]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return 2 ** slope


def growth_flag(scope: str, factor: float | None) -> str:
    """'' when the growth is what the scope allows, else why not. Scopes: person and community must be
    flat (≤ 1.3× per doubling); district grows at most linearly (≤ 2× per doubling, with noise)."""
    if factor is None:
        return "not measured"
    if scope in ("person", "community"):
        return "" if factor <= FLAT_PER_DOUBLING else f"NOT FLAT ({factor:.2f}× per doubling)"
    if scope == "district":
        return "" if factor <= LINEAR_PER_DOUBLING * NOISE else f"WORSE THAN LINEAR ({factor:.2f}× per doubling)"
    return ""


def baseline_warnings(ratios: dict[str, float], baseline: dict[str, float], factor: float = WARN_FACTOR) -> list[str]:
    """A warning for each page whose ratio to /healthz is `factor` times (or more) the baseline's."""
    warnings = []
    for name, ratio in sorted(ratios.items()):
        before = baseline.get(name)
        if before and ratio is not None and ratio >= factor * before:
            warnings.append(f"WARNING: {name} is {ratio:.1f}× /healthz, {ratio / before:.0f} times the baseline's "
                            f"{before:.1f}×")
    return warnings


def markdown_table(rows: list[dict], backends: list[str]) -> str:
    """Rows {what, target, <backend>: (measured, verdict)} as a Markdown table, one column per database."""
    lines = ["| what | target | " + " | ".join(backends) + " |", "|---|---|" + "---|" * len(backends)]
    for row in rows:
        cells = []
        for backend in backends:
            measured, result = row.get(backend) or ("", "not run")
            cells.append(f"{measured} — **{result}**" if measured else f"**{result}**")
        lines.append(f"| {row['what']} | {row['target']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
