"""Runs with uncertainty as the reader sees them: table texts, the comparison CSV's columns,
error bars on the bars, the tornado plot's order and labels, the texts on how the runs were
sampled and where each spread comes from, and the board report (English and French).

Runs are built by hand (known spreads and indices, tests/support/uncertain_twin.py's
declarations) so that every expected number is written here; a run without uncertainty
must read exactly as before.
"""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure

from meditwin_desktop.core import i18n
from meditwin_desktop.core.case import Case, Run
from meditwin_desktop.core.comparison import (
    CSV_HEADINGS,
    cell_text,
    comparison_table,
    plot_bars,
    spread_key,
    write_comparison_csv,
)
from meditwin_desktop.core.report import write_report
from meditwin_desktop.core.sensitivity_plot import (
    base_samples,
    plot_tornado,
    plot_tornadoes,
    sensitivity_outcomes,
    tornado_order,
)
from meditwin_desktop.core.twin import Outcome, Result, Scenario, Spread, Target
from meditwin_desktop.core.uncertainty_text import (
    method_lines,
    reading_note,
    source_lines,
    spread_description,
    spread_tip,
)
from tests.support.uncertain_twin import TWIN

LINEAR = TWIN.outcomes[0]  # lower is better, target <= 27 mL, 3 significant digits
METHOD = "448 runs of a Saltelli design (Sobol sequence, seed 1) of: First input, Second input"
INDICES = {"x1": (0.78, 0.80), "x2": (0.19, 0.21), "u1": (0.0, 0.01)}  # n = 64: 64 x 5 runs


def _run(name: str, value: float, spread: Spread | None = None, sensitivity=None) -> Run:
    result = Result({"linear": value, "ishigami": 0.0})
    if spread is not None:
        result.spread = {"linear": spread}
        result.uncertainty = METHOD
        result.sensitivity = {"linear": dict(sensitivity)} if sensitivity else {}
    return Run(TWIN.id, TWIN.version, name, {}, "h", "ok", None, dict(result.outcomes), 1.0,
               "", "", "", result)  # fmt: skip


def _runs() -> list[Run]:
    return [
        _run("Baseline", 25.0, Spread(25.1, 21.3, 28.7, 0.9, 0.81, 320), INDICES),
        _run("Higher x1", 27.0, Spread(27.0, 23.3, 30.7, 0.9, 0.5, 318, 2), INDICES),
        _run("Plain", 24.0),  # run without uncertainty
    ]


@pytest.fixture
def french():
    before = i18n.language()
    i18n.set_language("fr")
    i18n.reload()
    yield
    i18n.set_language(before if before in i18n.LANGUAGES else "en")
    i18n.reload()


def test_a_cell_shows_the_interval_and_on_a_second_line_the_probability():
    baseline, higher, plain = _runs()
    expected = "25 [21.3–28.7]\nP(<= 27 mL) = 0.81"
    assert cell_text(LINEAR, baseline, baseline, spread=True) == expected
    assert cell_text(LINEAR, higher, baseline, spread=True) == (
        "27 [23.3–30.7] (Δ +2)\nP(<= 27 mL) = 0.50"
    )
    assert cell_text(LINEAR, plain, baseline, spread=True) == "24 (Δ -1)"  # as before
    assert cell_text(LINEAR, higher, baseline) == "27 (Δ +2)"  # without asking: as before
    no_target = TWIN.outcomes[1]  # no target: an interval, no probability
    run = _run("B", 25.0)
    run.result.spread = {"ishigami": Spread(0.5, -3.25, 9.5)}
    assert cell_text(no_target, run, None, spread=True) == "0 [-3.25–9.5]"
    tip = spread_tip(LINEAR, higher.result.spread["linear"])
    assert tip.splitlines() == [
        "Median 27; 90 % interval 23.3–30.7, over 318 sampled runs",
        "2 sampled runs failed and are left out.",
        "P(<= 27 mL) = 0.50: 50 % of the sampled runs meet the target <= 27 mL",
    ]


def test_never_at_an_end_of_the_interval_is_said_not_drawn():
    outcome = Outcome("t", "Time to threshold", "y", "higher", precision=1, absent="never",
                      absent_is_best=True, target=Target(low=10.0))  # fmt: skip
    run = Run("x", "1", "A", {}, "h", "ok", None, {"t": 12.0}, 1.0, "", "", "",
              Result({"t": 12.0}, spread={"t": Spread(None, 8.0, None, 0.9, 0.7, 64)}))  # fmt: skip
    assert cell_text(outcome, run, None, spread=True) == "12.0 [8.0–never]\nP(>= 10 y) = 0.70"
    axes = Figure().add_subplot(111)
    plot_bars(axes, outcome, [run])
    assert not [c for c in axes.containers if isinstance(c, ErrorbarContainer)]
    assert any("[8.0–never]" in t.get_text() for t in axes.texts)  # the interval, in words
    _, rows = comparison_table(_Twin(outcome), [run])
    assert rows[0][-5:] == ["never", 8.0, "never", 0.9, 0.7]


class _Twin:
    """A twin of one outcome (comparison_table reads `outcomes` only)."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcomes = (outcome,)


def test_the_csv_adds_median_interval_level_and_probability_after_the_old_columns(tmp_path):
    runs = _runs()
    headings, rows = comparison_table(TWIN, runs)
    assert headings[:10] == ["Outcome", "Unit", "Scenario", "Shown", "Value", "Target",
                             "State", "Best", "Out of date", "Note"]  # fmt: skip
    assert headings[10:] == ["Median", "Low", "High", "Level", "P(target)"] == CSV_HEADINGS[10:]
    linear = {r[2]: dict(zip(headings, r, strict=True)) for r in rows if r[0] == "Linear"}
    assert linear["Baseline"]["Shown"] == "25"  # the value as before, the interval beside
    assert [linear["Baseline"][k] for k in headings[10:]] == [25.1, 21.3, 28.7, 0.9, 0.81]
    assert [linear["Plain"][k] for k in headings[10:]] == [""] * 5
    path = write_comparison_csv(tmp_path / "c.csv", TWIN, runs)
    read = list(csv.DictReader(path.open(encoding="utf-8")))
    higher = next(r for r in read if r["Outcome"] == "Linear" and r["Scenario"] == "Higher x1")
    assert (higher["Low"], higher["High"], higher["P(target)"]) == ("23.3", "30.7", "0.5")
    plain = next(r for r in read if r["Outcome"] == "Linear" and r["Scenario"] == "Plain")
    assert plain["Median"] == plain["P(target)"] == ""


def test_bars_get_error_bars_from_low_to_high_and_say_what_they_are():
    runs = _runs()
    axes = Figure().add_subplot(111)
    assert plot_bars(axes, LINEAR, runs, stale={"Higher x1"})
    whiskers = [c for c in axes.containers if isinstance(c, ErrorbarContainer)]
    assert len(whiskers) == 2  # the plain run has none
    ends = ((21.3, 25.1, 28.7), (23.3, 27.0, 30.7))
    for container, x, (low, median, high) in zip(whiskers, (0, 1), ends, strict=True):
        (segment,) = container.lines[2][0].get_segments()
        assert np.allclose(segment, [[x, low], [x, high]])
        assert container.lines[0].get_ydata()[0] == pytest.approx(median)  # the tick
    assert whiskers[1].lines[2][0].get_alpha() == 0.5  # out of date: faint
    assert axes.get_title().endswith("\nerror bars: 90 % interval, tick: median")
    labels = [t.get_text() for t in axes.texts]
    assert "25\nP = 0.81" in labels and "24" in labels
    tops = {t.get_text().split("\n")[0]: t.xy[1] for t in axes.texts}
    assert tops["25"] == pytest.approx(28.7) and tops["24"] == 24.0  # above the whisker
    plain = Figure().add_subplot(111)
    plot_bars(plain, LINEAR, runs[2:])
    assert len(plain.containers) == 1 and "\n" not in plain.get_title()  # as before


def test_the_tornado_orders_inputs_by_total_index_with_their_labels():
    baseline = _run("Baseline", 25.0, Spread(25.1, 21.3, 28.7, 0.9, 0.81, 320), INDICES)
    other = _run("Other", 25.0, Spread(25.1, 21.3, 28.7, 0.9, 0.81, 320),
                 {"x1": (0.3, 0.3), "x2": (0.6, 0.95), "u1": (0.0, 0.0)})  # fmt: skip
    assert tornado_order([baseline], "linear") == ["x1", "x2", "u1"]
    assert tornado_order([baseline, other], "linear") == ["x2", "x1", "u1"]  # 0.58 > 0.55
    assert sensitivity_outcomes(TWIN, [baseline, _run("Plain", 24.0)]) == {"linear": "Linear"}
    assert base_samples(baseline, "linear") == 64  # 320 runs = 64 x (3 inputs + 2)
    axes = Figure().add_subplot(111)
    assert plot_tornado(axes, TWIN, baseline, "linear", ["x1", "x2", "u1"])
    assert [t.get_text() for t in axes.get_yticklabels()] == ["First input", "Second input",
                                                              "Ishigami 1"]  # fmt: skip
    total, first = axes.containers
    assert [b.get_width() for b in total] == [0.80, 0.21, 0.01]
    assert [b.get_width() for b in first] == [0.78, 0.19, 0.0]
    assert axes.get_ylim()[0] > axes.get_ylim()[1]  # the first input on top
    assert axes.get_title() == "Baseline"
    rough = _run("Rough", 25.0, Spread(25.0, 21.0, 29.0, 0.9, 0.8, 80), INDICES)  # n = 16
    figure = Figure()
    row = figure.subplots(1, 2, sharey=True)
    assert plot_tornadoes(row, TWIN, [rough, baseline], "linear", {"Baseline"}) == [rough,
                                                                                      baseline]
    assert row[0].get_title() == "Rough\nrough: only 16 base samples"
    assert row[1].get_title() == "Baseline (out of date)"
    assert not plot_tornado(Figure().add_subplot(111), TWIN, _run("Plain", 1.0), "linear", [])


def test_how_it_was_sampled_and_where_each_spread_comes_from():
    assert source_lines(TWIN) == [
        "First input: normal, SD 1 mL (test value)",
        "Second input: normal, 20 % of the value (test value)",
        "Ishigami 1: uniform -3.14–3.14 (Ishigami and Homma 1990)",
        "Ishigami 2: uniform -3.14–3.14 (Ishigami and Homma 1990)",
        "Ishigami 3: uniform -3.14–3.14 (Ishigami and Homma 1990)",
    ]
    runs = _runs()
    assert method_lines(runs) == [
        f"Baseline, Higher x1: {METHOD}",
        "Higher x1: 2 of 320 sampled runs failed and are left out of its intervals.",
    ]
    assert method_lines(runs[:1]) == [f"Baseline: {METHOD}"]
    assert method_lines(runs[:2])[0] == f"All scenarios: {METHOD}"
    note = reading_note(runs)
    assert note.startswith("[low–high]: the 90 % interval") and "not the model's own" in note
    assert reading_note(runs[2:]) == spread_key(runs[2:]) == ""  # no uncertainty: no note


def test_the_spreads_read_in_french(french):
    assert spread_description(TWIN, TWIN.uncertain[2]) == "uniforme -3,14–3,14"
    baseline = _runs()[0]
    text = cell_text(LINEAR, baseline, baseline, spread=True)
    assert text == "25 [21,3–28,7]\nP(<= 27 mL) = 0,81"


def _pdf_text(path) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text().replace("\xa0", " ") for p in PdfReader(path).pages)


def _case(runs: list[Run]) -> Case:
    return Case("Test", scenarios={TWIN.id: [Scenario(r.scenario) for r in runs]},
                runs={TWIN.id: runs})  # fmt: skip


def test_the_report_gives_intervals_probabilities_method_sources_and_tornado(tmp_path):
    runs = _runs()
    text = _pdf_text(write_report(_case(runs), TWIN, tmp_path / "r.pdf",
                                  stale={"Higher x1": "the first input was edited"}))  # fmt: skip
    assert "[21.3–28.7]" in text and "P = 0.81" in text and "[23.3–30.7]" in text
    assert "P = 0.50" in text and "out of date" in text  # the stale run keeps its mark
    assert "Uncertainty and sensitivity" in text and "How the uncertainty was computed" in text
    assert f"Baseline, Higher x1: {METHOD}" in text.replace("\n", " ").replace("  ", " ")
    assert "First input: normal, SD 1 mL (test value)" in text
    assert "Which inputs drive each outcome" in text and "Sobol index" in text
    plain = _pdf_text(write_report(_case(runs[2:]), TWIN, tmp_path / "p.pdf", stale={}))
    assert "Uncertainty and sensitivity" not in plain and not re.search(r"\[-?\d", plain)


def test_the_report_on_uncertainty_reads_in_french(tmp_path, french):
    text = _pdf_text(write_report(_case(_runs()), TWIN, tmp_path / "fr.pdf", stale={}))
    assert "[21,3–28,7]" in text and "P = 0,81" in text
    assert "Incertitude et sensibilité" in text and "D’où vient la dispersion" in text
    assert "normale, ET 1 mL (test value)" in text and "indice de Sobol" in text
    assert "Uncertainty and sensitivity" not in text


def test_the_export_writes_the_sobol_indices_beside_the_outcomes(tmp_path):
    import json

    from meditwin_desktop.core.result_export import export_runs

    written = export_runs(_runs(), TWIN, tmp_path)
    names = {p.relative_to(tmp_path).as_posix() for p in written}
    assert "Baseline/sensitivity.csv" in names and "Plain/sensitivity.csv" not in names
    rows = list(csv.DictReader((tmp_path / "Baseline" / "sensitivity.csv").open()))
    assert [(r["outcome"], r["input"], r["first order"], r["total"]) for r in rows] == [
        ("linear", "x1", "0.78", "0.8"), ("linear", "x2", "0.19", "0.21"),
        ("linear", "u1", "0.0", "0.01")]  # fmt: skip
    document = json.loads((tmp_path / "Baseline" / "outcomes.json").read_text())
    assert document["sensitivity"] == {"file": "sensitivity.csv", "method": METHOD}
    assert document["outcomes"]["linear"]["low"] == 21.3  # the lead's spread entries
    assert "sensitivity" not in json.loads((tmp_path / "Plain" / "outcomes.json").read_text())
