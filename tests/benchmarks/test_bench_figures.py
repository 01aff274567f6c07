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


def _run_module():
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"
    spec = importlib.util.spec_from_file_location("linli_benchmark_run", path)
    module = sys.modules.get("linli_benchmark_run")
    if module is None:
        module = importlib.util.module_from_spec(spec)
        sys.modules["linli_benchmark_run"] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return module


def _good_result(run, backend="postgresql"):
    pages = {page.name: {"p50": 3.0, "p95": 20.0, "p99": 20.0, "ratio": 1.5} for page in run.PAGES}
    return {"backend": backend, "elders": 130_000, "seed_s": 100.0, "pages": pages,
            "completion_bytes": {"raw": 100 * 1024, "gzip": 10 * 1024}, "rss_mb": [100.0, 110.0],
            "jobs": {"plan-visits": {"seconds": 6.0, "baseline": 5.0},
                     "ledger check": {"seconds": 8.0, "baseline": 1.0},
                     "ledger check, daily": {"seconds": 0.5, "baseline": None}},
            "extras": {"sos": {"ms": 300, "rate": 1.0, "before": 3},
                       "outbox": {"count": 3000, "sent": 3000, "twice": 0, "shares": [1500, 1500], "rate": 400.0,
                                  "rate_with_startup": 300.0},
                       "load": {"errors": 0, "p95": 200, "rps": 300.0, "kinds": ""},
                       "pg_restart": {"errors_during": 4, "errors_after": 0, "restart_s": 0.5, "kinds": "POST 503 ×4",
                                      "stored": 10, "acknowledged": 10, "lost": 0}}}


def test_every_target_row_holds_on_good_figures_and_none_holds_on_bad_ones():
    run = _run_module()
    rows = run.target_rows({"postgresql": _good_result(run)})
    assert len(rows) == len(run.TARGETS) >= 16
    assert [row["postgresql"][1] for row in rows] == ["holds"] * len(rows)

    bad = _good_result(run)
    for page in bad["pages"].values():
        page.update(ratio=50.0, p95=500.0, p99=500.0)
    bad.update(seed_s=400.0, rss_mb=[150.0], completion_bytes={"raw": 400 * 1024, "gzip": 40 * 1024})
    bad["jobs"] = {"plan-visits": {"seconds": 9.0, "baseline": 5.0}, "ledger check": {"seconds": 30.0},
                   "ledger check, daily": {"seconds": 5.0}}
    bad["extras"]["sos"]["ms"] = 5000
    bad["extras"]["outbox"].update(rate=100.0)
    bad["extras"]["load"].update(errors=3)
    bad["extras"]["pg_restart"].update(kinds="GET 500 ×12, POST 503 ×1")
    verdicts = [row["postgresql"][1] for row in run.target_rows({"postgresql": bad})]
    assert verdicts == ["does not hold"] * len(rows)


def test_rows_say_why_they_were_not_measured_and_postgresql_targets_are_not_judged_on_sqlite():
    run = _run_module()
    empty = {"backend": "sqlite", "elders": 5000, "pages_error": "gunicorn did not answer"}
    for row in run.target_rows({"sqlite": empty}):
        measured, result = row["sqlite"]
        assert result.startswith(("not measured: ", "(target is for")), (row["what"], result)
    sqlite = _good_result(run, "sqlite")
    by_what = {row["what"]: row["sqlite"] for row in run.target_rows({"sqlite": sqlite})}
    assert by_what["officer visits dashboard (district officer)"][1] == "(target is for PostgreSQL)"
