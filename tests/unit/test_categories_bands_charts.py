"""Category outcomes (a RECIST category), uncertainty bands on curves and charts across
items (waterfall and spider plots): the contract checks them, the comparison, the CSV
export and the report show them, a saved case gives them back as they were."""

from __future__ import annotations

import csv
from dataclasses import replace

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest
from matplotlib.figure import Figure

from meditwin_desktop.core import case_document
from meditwin_desktop.core.case import Run
from meditwin_desktop.core.comparison import (
    best_scenarios,
    cell_text,
    comparison_table,
    plot_series,
    target_state,
)
from meditwin_desktop.core.result_export import export_run
from meditwin_desktop.core.result_plots import chart_groups, plot_chart
from meditwin_desktop.core.twin import (
    Chart,
    Outcome,
    Result,
    TimeSeries,
    TwinInputError,
    check_result,
)
from meditwin_desktop.core.twin_check import CheckReport, _outcomes
from tests.support.memory_store import MemoryStore
from tests.support.reference_twin import TWIN as REFERENCE

CATEGORY = Outcome(
    "recist_last", "RECIST at the last scan", "", categories=("CR", "PR", "SD", "PD")
)
SLD = Outcome("sld_mm", "SLD", "mm", better="lower", precision=1)
TWIN = replace(REFERENCE, outcomes=(CATEGORY, SLD))


def _series(shift=0.0):
    days = np.array([0.0, 50.0, 100.0])
    return TimeSeries("SLD", "mm", days, days * 0 + 40 + shift, "days",
                      lower=days * 0 + 35 + shift, upper=days * 0 + 45 + shift,
                      band_label="90 % interval")  # fmt: skip


def _waterfall():
    return Chart("Best change per lesion", "bars", ("liver: t1", "liver: t2", "lung: n1"),
                 {"best change": np.array([-42.0, 10.0, np.nan])}, unit="%",
                 guides=(("PD +20 %", 20.0), ("PR -30 %", -30.0)))  # fmt: skip


def _run(name, category, sld, shift=0.0):
    result = Result({"recist_last": category, "sld_mm": sld}, series={"sld": _series(shift)},
                    charts={"waterfall": _waterfall()})  # fmt: skip
    return Run("t", "1", name, {}, "", "ok", None, dict(result.outcomes), 0, "", "", "", result)


def test_a_category_must_be_one_of_its_words_and_a_number_not_a_word():
    check_result(TWIN, Result({"recist_last": "PR", "sld_mm": 30.0}))
    with pytest.raises(TwinInputError, match="not one of CR, PR, SD, PD"):
        check_result(TWIN, Result({"recist_last": "progressive", "sld_mm": 30.0}))
    with pytest.raises(TwinInputError, match="not a number"):
        check_result(TWIN, Result({"recist_last": "PR", "sld_mm": "30"}))
    report = CheckReport("t", "1")
    _outcomes(replace(TWIN, outcomes=(replace(CATEGORY, better="lower"),)), report)
    assert any("category" in p for p in report.problems)


def test_the_comparison_prints_categories_without_difference_target_or_best():
    baseline, other = _run("Baseline", "SD", 40.0), _run("Stop", "PD", 52.0)
    assert cell_text(CATEGORY, baseline, baseline) == "SD"
    assert cell_text(CATEGORY, other, baseline) == "PD"  # no "Δ" between words
    assert cell_text(SLD, other, baseline) == "52.0 (Δ +12.0)"
    assert target_state(CATEGORY, "PD") is None
    assert best_scenarios(TWIN, [baseline, other])["recist_last"] == set()
    _, rows = comparison_table(TWIN, [baseline, other])
    assert [r[4] for r in rows if r[0] == CATEGORY.label] == ["SD", "PD"]


def test_a_saved_result_gives_back_categories_bands_and_charts():
    run = _run("Baseline", "PR", 30.0)
    store = MemoryStore()
    back = case_document._result(case_document._result_document(run.result, store), store)
    assert back.outcomes["recist_last"] == "PR"
    series = back.series["sld"]
    assert np.array_equal(series.lower, [35.0] * 3) and np.array_equal(series.upper, [45.0] * 3)
    assert series.band_label == "90 % interval"
    chart = back.charts["waterfall"]
    assert chart.kind == "bars" and chart.x == ("liver: t1", "liver: t2", "lung: n1")
    assert np.isnan(chart.lines["best change"][2]) and chart.lines["best change"][0] == -42.0
    assert chart.guides == (("PD +20 %", 20.0), ("PR -30 %", -30.0))


def test_bands_and_charts_of_the_wrong_length_are_refused():
    bad = _series()
    bad.lower = bad.lower[:2]
    with pytest.raises(TwinInputError, match="band"):
        check_result(TWIN, Result({"recist_last": "PR", "sld_mm": 1.0}, series={"s": bad}))
    chart = _waterfall()
    chart.lines["best change"] = np.array([1.0])
    with pytest.raises(TwinInputError, match="chart"):
        check_result(TWIN, Result({"recist_last": "PR", "sld_mm": 1.0}, charts={"w": chart}))


def test_the_export_writes_the_band_and_the_chart(tmp_path):
    run = _run("Baseline", "PR", 30.0)
    export_run(run, TWIN, tmp_path)
    rows = list(csv.reader((tmp_path / "Baseline" / "sld.csv").open(encoding="utf-8")))
    assert rows[0][2:] == ["90 % interval: lower [mm]", "90 % interval: upper [mm]"]
    assert rows[1][2:] == ["35.0", "45.0"]
    chart = list(csv.reader((tmp_path / "Baseline" / "waterfall.csv").open(encoding="utf-8")))
    assert chart[1] == ["liver: t1", "-42.0"] and chart[3] == ["lung: n1", ""]


def test_identical_charts_are_drawn_once_and_bands_are_shaded():
    runs = [_run("Baseline", "PR", 30.0), _run("Stop", "PD", 50.0, shift=5.0)]
    [(members, chart)] = chart_groups(runs, "waterfall")
    assert [r.scenario for r in members] == ["Baseline", "Stop"]
    axes = Figure().add_subplot()
    plot_chart(axes, chart)
    assert [t.get_text() for t in axes.texts][:3] == ["-42", "+10", "n/a"]
    axes = Figure().add_subplot()
    assert plot_series(axes, runs, "sld")
    assert len(axes.collections) >= 2  # one band per scenario (plus the observed points)
    legend = [t.get_text() for t in axes.get_legend().get_texts()]
    assert sum(text.startswith("band") for text in legend) == 1  # one legend entry for all


def test_a_table_the_same_in_every_scenario_is_shown_once_unless_one_is_out_of_date():
    from meditwin_desktop.core.result_plots import table_shared
    from meditwin_desktop.core.twin import Table

    def run(name, rows):
        result = Result({"recist_last": "PR", "sld_mm": 1.0},
                        tables={"recist": Table("RECIST", ("Date", "Category"), rows)})  # fmt: skip
        return Run("t", "1", name, {}, "", "ok", None, dict(result.outcomes), 0, "", "", "",
                   result)  # fmt: skip

    same = [
        run("Baseline", [("2026-01-05", "baseline")]),
        run("Stop", [("2026-01-05", "baseline")]),
    ]
    assert table_shared(same, "recist") == (["Date", "Category"], [["2026-01-05", "baseline"]])
    assert table_shared(same, "recist", stale={"Stop"}) is None  # each keeps its mark
    other = [same[0], run("Stop", [("2026-01-05", "PR")])]
    assert table_shared(other, "recist") is None
