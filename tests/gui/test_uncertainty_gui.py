"""Runs with uncertainty in the comparison, clicked as a user does: each value with its
90 % interval and the probability of meeting its target, a note on how to read them, error
bars on the bars, bands on the curves and a Sensitivity tab with the tornado plots; a run
without uncertainty looks as before (no tab, no note, no brackets).

The runs come from the runner (worker processes) on the analytic test twin
(tests/support/uncertain_twin.py: linear = 2 x1 + x2, target <= 27 mL).
Set MEDITWIN_SHOTS=DIR to keep screenshots of each step.
"""

from __future__ import annotations

import matplotlib.colors as mcolors
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.container import ErrorbarContainer

from meditwin_desktop.core.case import Case
from meditwin_desktop.core.runner import Runner
from meditwin_desktop.core.scenarios import run_scenarios
from meditwin_desktop.core.twin import Scenario
from meditwin_desktop.core.uncertainty import UncertaintyPlan
from tests.support.comparison_tabs import click_tab
from tests.support.uncertain_twin import TWIN

pytestmark = pytest.mark.gui

SCENARIOS = [
    Scenario("Baseline"),
    Scenario("Higher x1", {"x1": 11.0}),
    Scenario("Lower x2", {"x2": 3.0}),
    Scenario("Both", {"x1": 11.5, "x2": 2.0}),
]


def _case(plan: UncertaintyPlan | None) -> Case:
    case = Case("uncertain")
    case.scenarios[TWIN.id] = list(SCENARIOS)
    runner = Runner(max_parallel=2, timeout_s=120)
    try:
        runs = run_scenarios(TWIN, case, SCENARIOS, runner, uncertainty=plan)
    finally:
        runner.shutdown()
    assert [r.status for r in runs] == ["ok"] * 4, [r.error for r in runs]
    return case


@pytest.fixture(scope="module")
def sampled_case() -> Case:
    """Four scenarios run with uncertainty and a sensitivity analysis (64 x 7 runs each)."""
    return _case(UncertaintyPlan(samples=64, seed=1, sensitivity=True))


def _view(qtbot):
    from meditwin_desktop.ui.comparison import ComparisonView

    view = ComparisonView()
    qtbot.addWidget(view)
    view.resize(1600, 1000)
    view.show()
    qtbot.waitExposed(view)
    return view


def _column(table, scenario: str) -> int:
    return next(c for c in range(1, table.columnCount())
                if table.horizontalHeaderItem(c).text().split(" (")[0] == scenario)  # fmt: skip


def test_values_bars_curves_and_sensitivity_with_uncertainty(qtbot, shot, sampled_case):
    view = _view(qtbot)
    view.show_runs(TWIN, sampled_case)
    table = view.table
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).text().startswith("Linear"))
    baseline = table.item(row, _column(table, "Baseline"))
    value, probability = baseline.text().split("\n")
    assert value.startswith("25 [") and value.endswith("]")  # the nominal value stays first
    low, high = (float(x) for x in value[4:-1].split("–"))
    assert 19.5 < low < 23.0 < 27.0 < high < 30.5  # 25 -+ 1.645 sqrt(5) = 21.3 to 28.7
    assert probability.startswith("P(<= 27 mL) = 0.")
    tip = baseline.toolTip()
    assert "Median" in tip and "90 % interval" in tip and "of the sampled runs meet" in tip
    assert table.rowHeight(row) > table.fontMetrics().height() * 1.8  # both lines shown
    higher = table.item(row, _column(table, "Higher x1")).text()
    assert higher.startswith("27 [") and "(Δ +2)" in higher.split("\n")[0]
    note = view.uncertainty_note
    assert note.isVisible() and "90 % interval" in note.text()
    assert "All scenarios: 448 runs of a Saltelli design" in note.text()
    shot(view, "uncertainty-outcomes")

    click_tab(view, view.bars_page)
    view.bar_choice.setCurrentIndex(view.bar_choice.findData("linear"))
    qtbot.waitUntil(view.bar_canvas.isVisible, timeout=5_000)
    axes = view.bar_figure.axes[0]
    whiskers = [c for c in axes.containers if isinstance(c, ErrorbarContainer)]
    assert len(whiskers) == 4
    segment = whiskers[0].lines[2][0].get_segments()[0]  # Baseline: from low to high
    assert segment[0][1] == pytest.approx(low, abs=0.06)
    assert segment[1][1] == pytest.approx(high, abs=0.06)
    assert axes.get_title().endswith("\nerror bars: 90 % interval, tick: median")
    assert any(t.get_text().endswith("P = 0.81") for t in axes.texts)
    shot(view, "uncertainty-bars")

    click_tab(view, view.curves_page)
    qtbot.waitUntil(view.canvas.isVisible, timeout=5_000)
    axes = view.figure.axes[0]
    bands = [c for c in axes.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 4  # one per scenario, in its curve's colour
    colours = {mcolors.to_hex(b.get_facecolor()[0], keep_alpha=False) for b in bands}
    lines = {mcolors.to_hex(line.get_color()) for line in axes.get_lines()}
    assert len(colours) == 4 and colours <= lines
    assert any("band: 90 % interval over 448 sampled runs" in t.get_text().replace("\n", " ")
               for t in axes.get_legend().get_texts())  # fmt: skip
    shot(view, "uncertainty-curves")

    tabs = view.tabs
    assert tabs.isTabVisible(tabs.indexOf(view.sensitivity_page))
    click_tab(view, view.sensitivity_page)
    page = view.sensitivity_page
    page.choice.setCurrentIndex(page.choice.findData("ishigami"))
    qtbot.waitUntil(page.canvas.isVisible, timeout=5_000)
    panels = page.figure.axes
    assert len(panels) == 4 and [a.get_title() for a in panels] == [s.name for s in SCENARIOS]
    names = [t.get_text() for t in panels[0].get_yticklabels()]
    assert names[:2] == ["Ishigami 1", "Ishigami 2"] and set(names[3:]) == {
        "First input", "Second input"}  # u1 (total 0.56) and u2 (0.44) drive it; x1, x2 not
    shot(view, "uncertainty-sensitivity")


def test_a_run_without_uncertainty_looks_as_before(qtbot):
    view = _view(qtbot)
    view.show_runs(TWIN, _case(None))
    table = view.table
    texts = [table.item(r, c).text() for r in range(table.rowCount())
             for c in range(1, table.columnCount())]  # fmt: skip
    assert texts[0] == "25" and not any("[" in t or "\n" in t for t in texts)
    assert not view.uncertainty_note.isVisible()
    assert not view.tabs.isTabVisible(view.tabs.indexOf(view.sensitivity_page))
    click_tab(view, view.bars_page)
    axes = view.bar_figure.axes[0]
    assert not axes.containers[1:] and "\n" not in axes.get_title()  # the bars only
