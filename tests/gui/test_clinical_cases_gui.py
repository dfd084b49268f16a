"""Cases without images from the demo library: the clinical form and the two clinical twins
(Norwood shunt choice, cardiometabolic risk) run and compared from the GUI.

Set MEDITWIN_SHOTS=DIR to keep screenshots of each step (to look at them).
"""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QProgressBar

pytestmark = pytest.mark.gui


@pytest.fixture
def window(show_window):
    window = show_window(1500, 950)
    yield window
    window.close()


def _run_and_wait(window, qtbot) -> None:
    panel = window.twin_panel
    if not panel.running():
        panel.run_all()
    table = panel.scenarios

    def done() -> bool:
        bars = [table.cellWidget(r, 1).findChild(QProgressBar) for r in range(table.rowCount())]
        return all(bar is not None and bar.value() == 1000 for bar in bars)

    qtbot.waitUntil(done, timeout=120_000)
    qtbot.waitUntil(lambda: window.comparison.table.columnCount() == table.rowCount() + 1,
                    timeout=10_000)  # fmt: skip


def _row(table, label_start: str) -> int:
    rows = range(table.rowCount())
    return next(r for r in rows if table.item(r, 0).text().startswith(label_start))


def test_newborn_shunt_scenarios_run_and_compare(window, qtbot, shot):
    window.open_demo_case("neonate-hlhs")
    assert window.centre.currentWidget() is window.overview  # no empty image views
    assert "3.2" in window.overview.text.text() and "4</b> days" in window.overview.text.text()
    panel = window.twin_panel
    panel.select_twin("hlhs_norwood")
    # the case opened on the Twins tab: the comparison is there before the first run
    qtbot.waitUntil(window.comparison_dock.isVisible, timeout=10_000)
    sources = {panel.baseline_table.item(r, 0).text(): panel.baseline_table.item(r, 2).text()
               for r in range(panel.baseline_table.rowCount())}  # fmt: skip
    assert sources["Weight"] == "from the clinical form"
    assert "mean arterial pressure 48 mmHg" in sources["Systemic vascular resistance"]
    panel.add_scenario("BT 3.0", {"shunt_diameter_mm": 3.0})
    panel.add_scenario("BT 4.0", {"shunt_diameter_mm": 4.0})
    panel.add_scenario("Sano 5", {"shunt_type": "sano", "shunt_diameter_mm": 5.0})
    panel.run_all()
    assert panel.running()
    weight = window.clinical._editors["weight_kg"]
    weight.text.setText("3.6")  # edited while the scenarios run
    weight.edited.emit()
    _run_and_wait(window, qtbot)
    qtbot.waitUntil(lambda: not panel.stale, timeout=10_000)
    assert panel.baseline["weight_kg"].value == 3.6  # personalised again after the runs
    table = window.comparison.table
    row = _row(table, "Qp/Qs")
    ratios = [float(table.item(row, c).text().lstrip("★ ").split()[0]) for c in (1, 2, 3)]
    assert ratios[1] < ratios[0] < ratios[2]  # BT 3.0 < BT 3.5 (baseline) < BT 4.0
    window.comparison.tabs.setCurrentIndex(1)
    choice = window.comparison.series_choice
    choice.setCurrentIndex(choice.findData("pv_loop"))
    assert choice.currentText() == "Ventricular pressure-volume loop"
    qtbot.wait(100)
    axes = window.comparison.canvas.figure.axes[0]
    assert len(axes.lines) == 4 and "volume" in axes.get_xlabel()
    shot(window, "neonate-comparison")


def test_fh_form_units_and_risk_scenarios(window, qtbot, shot):
    window.open_demo_case("fh-patient")
    window.clinical_dock.raise_()
    clinical = window.clinical
    ldl = clinical._editors["ldl_mg_dl"]
    ldl.unit.setCurrentText("mmol/L")
    assert ldl.text.text() == "6.206"  # 240 mg/dL shown in mmol/L
    ldl.text.setText("62")  # a mg/dL habit typed in mmol/L
    ldl.edited.emit()
    assert "not plausible" in clinical.message.text()
    assert window.cases.case.clinical["ldl_mg_dl"] == 240.0  # unchanged
    ldl.text.setText("6.5")
    ldl.edited.emit()
    assert window.cases.case.clinical["ldl_mg_dl"] == pytest.approx(6.5 * 38.67)
    assert window.cases.dirty  # autosave will store it
    shot(window, "fh-clinical-form")
    panel = window.twin_panel
    window.twins_dock.raise_()
    panel.select_twin("cardiometabolic")
    baseline = {panel.baseline_table.item(r, 0).text(): panel.baseline_table.item(r, 1).text()
                for r in range(panel.baseline_table.rowCount())}  # fmt: skip
    assert baseline["LDL cholesterol, untreated"].startswith("251.4")  # the edited value
    panel.add_scenario("High statin", {"therapy": "statin_high"})
    panel.add_scenario(
        "Triple, stop smoking", {"therapy": "statin_high_ezetimibe_pcsk9i", "smoker": "false"}
    )
    _run_and_wait(window, qtbot)
    table = window.comparison.table
    row = _row(table, "10-year CVD risk (SCORE2")
    risks = [float(table.item(row, c).text().lstrip("★ ").split()[0]) for c in (1, 2, 3)]
    assert risks[2] < risks[1] < risks[0]
    nnt = table.item(_row(table, "Number needed to treat"), 1).text()
    assert nnt.startswith("no risk reduction")  # the baseline has no therapy
    window.comparison.tabs.setCurrentIndex(1)
    choice = window.comparison.series_choice
    choice.setCurrentIndex(choice.findData("ldl_burden"))
    qtbot.wait(100)
    axes = window.comparison.canvas.figure.axes[0]
    assert len(axes.lines) == 4  # three scenarios and the threshold line
    shot(window, "fh-comparison")
    window.comparison.tabs.setCurrentWidget(window.comparison.bars_page)
    bars = window.comparison.bar_choice
    bars.setCurrentIndex(bars.findData("score2_10y_risk_pct"))
    qtbot.wait(100)
    axes = window.comparison.bar_figure.axes[0]
    heights = [patch.get_height() for patch in axes.patches]
    assert heights == pytest.approx(risks, abs=0.05)  # the table shows them to 0.1 %
    shot(window, "fh-bars")
