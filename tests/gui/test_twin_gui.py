"""The twin panel and comparison with the reference twin (tests/support) on the demo case."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QLabel, QMessageBox, QProgressBar, QTableWidget

pytestmark = pytest.mark.gui
EXTRA = "tests.support.reference_twin:TWIN,tests.support.reference_twin:BROKEN"


@pytest.fixture
def twin_window(qtbot, demo_patient, monkeypatch, show_window):
    monkeypatch.setenv("MEDITWIN_EXTRA_TWINS", EXTRA)
    window = show_window(1500, 950)
    with qtbot.waitSignal(window.ready, timeout=120_000):
        window.open_demo()
    qtbot.waitUntil(lambda: window.cases.case is not None and window.cases.case.labels is not None,
                    timeout=60_000)  # fmt: skip  # the case has the labels: the twins can fit
    qtbot.waitUntil(lambda: window.twin_panel.twin is not None, timeout=10_000)
    window.twin_panel.select_twin("reference")  # installed twins (liver_ablation) come first
    qtbot.waitUntil(lambda: not window.twin_panel.personalising(), timeout=30_000)
    assert window.twin_panel.twin.id == "reference"
    yield window
    window.close()


def _rows(table):
    return [table.item(r, 0).text() for r in range(table.rowCount())]


def test_twins_that_fit_with_baseline_provenance_and_broken_plugins(twin_window):
    panel = twin_window.twin_panel
    entries = [panel.twins.item(n).text() for n in range(panel.twins.count())]
    assert any(e.startswith("Reference washout") for e in entries)
    assert any("BROKEN" in e and "not a meditwin Twin" in e for e in entries)  # reported, not fatal
    sources = [
        panel.baseline_table.item(r, 2).text() for r in range(panel.baseline_table.rowCount())
    ]
    assert any("from label 'liver'" in s and "mL" in s for s in sources)


def test_scenarios_are_validated_run_and_compared(twin_window, qtbot):
    panel, comparison = twin_window.twin_panel, twin_window.comparison
    fast = panel.add_scenario("fast")
    table = panel.scenarios
    row = _rows(table).index("fast")
    rate_column = panel.column_of("rate")
    table.item(row, rate_column).setText("50")  # outside 0.01 .. 10 1/h
    qtbot.waitUntil(lambda: twin_window.findChild(QMessageBox, "scenario_warning") is not None)
    warning = twin_window.findChild(QMessageBox, "scenario_warning")
    assert "between 0.01 and 10 1/h" in warning.text()
    warning.close()
    assert "rate" not in fast.overrides and table.item(row, rate_column).text() == ""
    table.item(row, rate_column).setText("2")
    assert fast.overrides == {"rate": "2"}
    panel.run_all()

    def bars():
        return [
            table.cellWidget(r, 1).findChild(QProgressBar).value() for r in range(table.rowCount())
        ]

    qtbot.waitUntil(lambda: bars() == [1000, 1000], timeout=120_000)
    qtbot.waitUntil(lambda: comparison.table.columnCount() == 3, timeout=10_000)
    headers = [comparison.table.horizontalHeaderItem(c).text() for c in range(3)]
    assert headers == ["Outcome", "Baseline", "fast"]
    final_fast = comparison.table.item(0, 2).text()  # "Amount at the end", lower is better
    assert final_fast.startswith("★") and "Δ" in final_fast
    comparison.tabs.setCurrentIndex(1)  # curves are drawn when their tab is shown
    assert len(comparison.canvas.figure.axes[0].lines) == 2  # both curves overlaid


def test_a_slow_scenario_can_be_cancelled(twin_window, qtbot):
    panel = twin_window.twin_panel
    panel.add_scenario("slow", {"behaviour": "sleep"})
    panel.run_all()
    qtbot.waitUntil(  # inputs are prepared in the background first
        lambda: "slow" in panel._handles and panel._handles["slow"].progress > 0, timeout=60_000
    )
    panel.cancel("slow")
    qtbot.waitUntil(lambda: panel._handles["slow"].done(), timeout=2_000)  # within 1 s + grace
    assert panel._handles["slow"].status == "cancelled"
    qtbot.waitUntil(lambda: not panel.running(), timeout=60_000)


def test_a_saved_case_reopens_with_scenarios_and_results(twin_window, qtbot, tmp_path):
    from meditwin_desktop.ui.main_window import MainWindow

    panel = twin_window.twin_panel
    panel.add_scenario("fast", {"rate": "2"})
    panel.run_all()
    case = twin_window.cases.case
    qtbot.waitUntil(
        lambda: (
            {r.status for r in case.runs.get("reference", [])} == {"ok"}
            and len(case.runs["reference"]) == 2
        ),
        timeout=120_000,
    )
    qtbot.wait(200)  # the last run's signals reach the panel
    twin_window.cases.save()
    qtbot.waitUntil(lambda: "saved (revision" in twin_window.message.text(), timeout=30_000)
    case_id = case.id  # fmt: skip
    other = MainWindow()
    qtbot.addWidget(other)
    other.show()
    other.open_case(case_id)
    qtbot.waitUntil(lambda: other.cases.case is not None and other.twin_panel.twin is not None,
                    timeout=60_000)  # fmt: skip
    reopened = other.cases.case
    assert [s.name for s in reopened.scenarios["reference"]] == ["Baseline", "fast"]
    assert {r.scenario: r.status for r in reopened.runs["reference"]} == {
        "Baseline": "ok",
        "fast": "ok",
    }
    assert np.array_equal(reopened.labels.volume.array, twin_window.scene.labels.volume.array)
    assert other.scene.volume is not None and other.scene.volume.shape == (240, 256, 256)
    pdf = tmp_path / "board.pdf"
    other.export_report(pdf, pseudonym="Patient A")
    qtbot.waitUntil(pdf.exists, timeout=60_000)
    other.close()


def test_liver_ablation_fits_the_demo_and_takes_its_target_from_the_crosshair(twin_window, qtbot):
    panel, scene = twin_window.twin_panel, twin_window.scene
    panel.select_twin("liver_ablation")
    assert panel.personalising()  # the CT's labels are read in the background
    qtbot.waitUntil(lambda: not panel.personalising(), timeout=30_000)
    assert panel.twin.id == "liver_ablation"
    sources = [
        panel.baseline_table.item(r, 2).text() for r in range(panel.baseline_table.rowCount())
    ]
    assert any("centre of 'tumour 1'" in s for s in sources)
    scenario = panel.add_scenario("second tumour")
    panel.scenarios.selectRow(_rows(panel.scenarios).index("second tumour"))
    second = scene.labels.volume.array == scene.labels.by_name("tumour 2").value
    k, j, i = np.argwhere(second).mean(axis=0)
    scene.set_cursor(scene.labels.volume.index_to_lps(np.array([i, j, k])))
    panel.findChild(type(panel.buttons["Add"]), "point_target").click()
    assert scenario.overrides["target_lps_mm"] == pytest.approx(tuple(scene.cursor), abs=0.05)


def test_run_all_button_runs_the_liver_twin_on_the_demo(twin_window, qtbot):
    """The liver twin's own scenarios, run from the button a surgeon clicks, all finish
    with numbers on screen (a regression once refused them all: 'target outside the body')."""
    panel = twin_window.twin_panel
    panel.select_twin("liver_ablation")
    qtbot.waitUntil(lambda: not panel.personalising(), timeout=30_000)
    panel.buttons["Run all"].click()
    qtbot.waitUntil(lambda: bool(panel._handles) and not panel.running(), timeout=300_000)
    statuses = {name: handle.status for name, handle in panel._handles.items()}
    assert statuses and set(statuses.values()) == {"ok"}, statuses
    assert twin_window.comparison_dock.isVisible()
    outcomes = twin_window.comparison.findChild(QTableWidget, "outcome_table")
    assert outcomes is not None and outcomes.rowCount() > 0
    volume_row = [outcomes.item(r, 0).text() for r in range(outcomes.rowCount())].index(
        "Ablation volume [mL]"
    )
    # a run is done in the runner's thread a moment before its result reaches the window
    qtbot.waitUntil(lambda: outcomes.item(volume_row, 1) is not None, timeout=10_000)
    baseline = outcomes.item(volume_row, 1).text()
    assert float(baseline.split()[0]) > 0, baseline


def test_the_twins_tab_opens_the_comparison_before_any_run(twin_window, qtbot):
    """The views shrink when the user opens the Twins tab, not at Run all while the
    simulations start; the empty comparison says what will appear there."""
    twin_window.comparison_dock.hide()
    twin_window.segmentation_dock.raise_()
    qtbot.wait(50)
    twin_window.twins_dock.raise_()
    qtbot.waitUntil(twin_window.comparison_dock.isVisible, timeout=5_000)
    notes = twin_window.comparison.findChild(QLabel, "model_notes")
    assert "No results yet" in notes.text() and notes.isVisible()
    height = twin_window.comparison_dock.height()
    assert height <= twin_window.height() // 2  # the views keep most of the window
