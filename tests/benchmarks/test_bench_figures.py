"""The benchmark's arithmetic (benchmarks/bench_figures.py): growth per doubling, verdicts, CI warnings."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_figures import baseline_warnings, growth_flag, markdown_table, per_doubling, verdict  # noqa: E402


def test_a_flat_figure_grows_one_times_per_doubling():
    assert per_doubling([(65_000, 3.0), (130_000, 3.0), (260_000, 3.0)]) == pytest.approx(1.0)


def test_a_linear_figure_doubles_and_a_quadratic_one_quadruples():
    assert per_doubling([(65_000, 5.0), (130_000, 10.0), (260_000, 20.0)]) == pytest.approx(2.0)
    assert per_doubling([(1, 1.0), (2, 4.0), (4, 16.0)]) == pytest.approx(4.0)


def test_growth_over_an_uneven_step_is_per_doubling_not_per_step():
    # ×4 in size, ×2 in time: √2 per doubling
    assert per_doubling([(65_000, 1.0), (260_000, 2.0)]) == pytest.approx(2 ** 0.5)


def test_growth_needs_two_sizes_and_positive_figures():
    assert per_doubling([(130_000, 4.0)]) is None
    assert per_doubling([(65_000, 4.0), (130_000, None)]) is None
    assert per_doubling([(65_000, 0.0), (130_000, 1.0)]) is None


def test_a_page_for_one_person_or_community_must_stay_flat():
    assert growth_flag("person", 1.2) == ""
    assert growth_flag("community", 1.31).startswith("NOT FLAT")
    assert growth_flag("person", None) == "not measured"


def test_district_work_may_grow_linearly_but_no_worse():
    assert growth_flag("district", 2.1) == ""  # within the noise allowance
    assert growth_flag("district", 2.6).startswith("WORSE THAN LINEAR")


def test_verdicts():
    assert verdict(3.0, 3) == "holds"
    assert verdict(3.01, 3) == "does not hold"
    assert verdict(None, 3, "PostgreSQL only") == "not measured: PostgreSQL only"


def test_a_page_ten_times_its_baseline_ratio_is_warned_about_and_nine_times_is_not():
    warnings = baseline_warnings({"elder home": 30.0, "volunteer feed": 36.0, "new page": 99.0},
                                 {"elder home": 3.0, "volunteer feed": 4.0})
    assert len(warnings) == 1 and warnings[0].startswith("WARNING: elder home is 30.0×")


def test_the_markdown_table_has_a_column_per_database():
    table = markdown_table([{"what": "feed", "target": "≤ 4×", "sqlite": ("3.1×", "holds"),
                             "postgresql": ("", "not measured: down")}], ["sqlite", "postgresql"])
    assert table.splitlines()[0] == "| what | target | sqlite | postgresql |"
    assert table.splitlines()[2] == "| feed | ≤ 4× | 3.1× — **holds** | **not measured: down** |"
