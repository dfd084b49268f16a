"""The comparison with clinical meaning, clicked as a user does: values coloured against
their targets, ★ only beyond the clinical resolution and never for a plan missing a safety
limit, clinical rounding, one unit system chosen in the comparison (kept in the user's
settings), and a message instead of empty axes before the first run.

Set MEDITWIN_SHOTS=DIR to keep screenshots of each step (to look at them).
"""

from __future__ import annotations

import csv

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QProgressBar

from meditwin_desktop.core.case import Case, Run
from meditwin_desktop.core.comparison import OFF
from meditwin_desktop.core.twin import Result, Scenario
from meditwin_desktop.core.units import SYSTEM_SETTING, user_system

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def _default_units():
    """The unit system is a user setting: each test starts from, and leaves, the default."""
    from meditwin_desktop.ui.window_views import settings

    settings().remove(SYSTEM_SETTING)
    yield
    settings().remove(SYSTEM_SETTING)


def _click_tab(qtbot, comparison, title: str) -> None:
    bar = comparison.tabs.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == title)
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    qtbot.waitUntil(lambda: comparison.tabs.currentIndex() == index, timeout=5_000)


def _row(table, label_start: str) -> int:
    rows = range(table.rowCount())
    return next(r for r in rows if table.item(r, 0).text().startswith(label_start))


def _column(table, scenario: str) -> int:
    columns = range(1, table.columnCount())
    texts = {c: table.horizontalHeaderItem(c).text().removeprefix("⚠ ") for c in columns}
    return next(c for c, text in texts.items() if text.split(" (")[0] == scenario)


def _liver_case() -> Case:
    """The issue's plans: an ablation with a thin margin, a resection leaving 21 % liver."""
    from twins.liver_ablation import TWIN

    plans = {
        "Baseline": {"flr_pct": 63.2, "tumor_coverage_pct": 96.41, "coverage_5mm_pct": 71.77,
                     "min_margin_mm": 1.96, "ablation_volume_ml": 17.1528},
        "Resection": {"flr_pct": 21.04, "tumor_coverage_pct": 100.0, "coverage_5mm_pct": 100.0,
                      "min_margin_mm": 10.2, "ablation_volume_ml": 0.0},
        "Longer": {"flr_pct": 62.0, "tumor_coverage_pct": 99.5, "coverage_5mm_pct": 90.0,
                   "min_margin_mm": 4.0, "ablation_volume_ml": 30.0},
    }  # fmt: skip
    runs = [
        Run(TWIN.id, TWIN.version, name, {}, "", "ok", None, values, 1.0, "", "", "",
            Result(dict(values)))
        for name, values in plans.items()
    ]  # fmt: skip
    return Case("liver", scenarios={TWIN.id: [Scenario(n) for n in plans]}, runs={TWIN.id: runs})


def test_before_a_run_a_message_then_the_resection_is_red_and_starless(qtbot, shot):
    from meditwin_desktop.ui.comparison import ComparisonView
    from twins.liver_ablation import TWIN

    view = ComparisonView()
    qtbot.addWidget(view)
    view.resize(1100, 420)
    view.show()
    qtbot.waitExposed(view)
    view.show_runs(TWIN, Case("empty"))
    assert not view.unit_system.isVisible()  # no concentration to convert in this twin
    for title, canvas in (("Curves", view.canvas), ("Bars", view.bar_canvas)):
        _click_tab(qtbot, view, title)
        assert not canvas.isVisible() and canvas.empty.isVisible()
        assert canvas.empty.text().endswith("once the scenarios have run.")
        assert not canvas.figure.axes  # no empty 0-1 axes drawn behind the message
    shot(view, "liver-empty-bars")

    view.show_runs(TWIN, _liver_case())
    _click_tab(qtbot, view, "Outcomes")
    table = view.table
    resection, ablation = _column(table, "Resection"), _column(table, "Baseline")
    flr = table.item(_row(table, "Future liver remnant"), resection)
    assert flr.text().startswith("21 ↓") and flr.data(Qt.ItemDataRole.UserRole) == OFF
    assert "Below the target >= 30 %" in flr.toolTip() and "Adams" in flr.toolTip()
    texts = [table.item(r, resection).text() for r in range(table.rowCount())]
    assert not any("★" in t for t in texts)  # best margins, but 21 % of liver: no stars
    assert "★" not in table.item(_row(table, "Future liver remnant"), ablation).text()  # 63/62
    longer = table.item(_row(table, "Minimal margin"), _column(table, "Longer"))
    assert longer.text().startswith("★ 4.0 ↓")  # 2 mm ahead of the baseline: beyond 1 mm
    margin = table.item(_row(table, "Minimal margin"), ablation)
    assert margin.text() == "2.0 ↓" and margin.data(Qt.ItemDataRole.UserRole) == OFF
    volume = table.item(_row(table, "Ablation volume"), ablation)
    assert volume.text() == "17.2"  # clinical precision, no false digits
    assert "⚠ Resection misses a safety limit (Future liver remnant)" in view.notes.text()

    view.show_runs(TWIN, _liver_case(), {"Longer": "the tumour label was edited"})
    texts = [table.item(r, c).text() for r in range(table.rowCount())
             for c in range(1, table.columnCount())]  # fmt: skip
    assert not any("★" in t for t in texts)  # never best while a result is out of date
    stale = table.item(_row(table, "Minimal margin"), _column(table, "Longer"))
    assert stale.font().italic() and stale.background().color().alpha() < 255
    view.show_runs(TWIN, _liver_case())
    _click_tab(qtbot, view, "Bars")
    view.bar_choice.setCurrentIndex(view.bar_choice.findData("flr_pct"))
    qtbot.waitUntil(lambda: view.bar_canvas.isVisible(), timeout=5_000)
    axes = view.bar_figure.axes[0]
    labels = [t.get_text() for t in axes.texts]
    assert "21 ↓" in labels and "63" in labels and "62" in labels
    shot(view, "liver-bars-flr")


def _run_and_wait(window, qtbot) -> None:
    panel = window.twin_panel
    button = panel.buttons["Run all"]
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    table = panel.scenarios

    def done() -> bool:
        bars = [table.cellWidget(r, 1).findChild(QProgressBar) for r in range(table.rowCount())]
        return all(bar is not None and bar.value() == 1000 for bar in bars)

    qtbot.waitUntil(done, timeout=120_000)
    qtbot.waitUntil(lambda: window.comparison.table.columnCount() == table.rowCount() + 1,
                    timeout=10_000)  # fmt: skip


def test_lipids_in_the_unit_system_chosen_with_clinical_rounding(show_window, qtbot, shot,
                                                                  tmp_path):  # fmt: skip
    window = show_window(1500, 950)
    window.open_demo_case("fh-patient")
    panel = window.twin_panel
    window.twins_dock.raise_()
    panel.select_twin("cardiometabolic")
    comparison = window.comparison
    qtbot.waitUntil(comparison.isVisible, timeout=10_000)
    ldl_editor = window.clinical._editors["ldl_mg_dl"]
    untreated = window.cases.case.clinical["ldl_mg_dl"]  # the baseline has no therapy
    assert ldl_editor.unit.currentText() == "mg/dL"  # the form in the same system
    assert f"{untreated:g}</b> mg/dL" in window.overview.text.text()
    _click_tab(qtbot, comparison, "Bars")
    assert comparison.bar_canvas.empty.text().startswith("No outcomes yet")
    panel.add_scenario("High statin", {"therapy": "statin_high"})
    panel.add_scenario(
        "Triple, stop smoking", {"therapy": "statin_high_ezetimibe_pcsk9i", "smoker": False}
    )
    _run_and_wait(window, qtbot)
    _click_tab(qtbot, comparison, "Outcomes")
    table = comparison.table
    assert comparison.unit_system.currentData() == "mg/dL"  # as the form stores lipids
    assert comparison.unit_system.isVisible()
    ldl_row = _row(table, "LDL-C on treatment [mg/dL]")
    assert "target <= 70 mg/dL" in table.item(ldl_row, 0).text()
    assert table.item(ldl_row, 1).text().split()[0] == f"{untreated:.0f}"
    assert _row(table, "LDL-C burden at 40 [mg/dL-years]") >= 0  # one system in the table
    nnt = table.item(_row(table, "Number needed to treat"), 2).text()
    assert nnt.split()[0].isdigit()  # whole people
    score2 = _row(table, "10-year CVD risk (SCORE2")
    texts = [table.item(score2, c).text() for c in (1, 2, 3)]
    assert all(len(t.lstrip("★ ").split()[0].split(".")[1]) == 1 for t in texts)
    assert [t.startswith("★") for t in texts] == [False, False, True]
    assert table.item(ldl_row, 1).data(Qt.ItemDataRole.UserRole) == OFF  # above 70
    shot(window, "fh-outcomes-mg")

    combo = comparison.unit_system
    QTest.mouseClick(combo, Qt.MouseButton.LeftButton)
    combo.setCurrentIndex(combo.findData("mmol/L"))
    combo.hidePopup()
    ldl_row = _row(table, "LDL-C on treatment [mmol/L]")
    assert "target <= 1.81 mmol/L" in table.item(ldl_row, 0).text()
    assert "differences up to 0.129 mmol/L are the same" in table.item(ldl_row, 0).toolTip()
    baseline = table.item(ldl_row, 1).text()
    assert baseline.split()[0] == f"{untreated / 38.665:.2f}"  # 2 decimals in mmol/L
    assert _row(table, "LDL-C burden at 40 [mmol/L-years]") >= 0
    assert user_system() == "mmol/L"  # kept for the report and the command line
    assert ldl_editor.unit.currentText() == "mmol/L"  # the form follows
    overview = window.overview.text.text()
    assert f"{untreated / 38.665:.2f}</b> mmol/L" in overview and "mg/dL" not in overview
    _click_tab(qtbot, comparison, "Curves")
    choice = comparison.series_choice
    choice.setCurrentIndex(choice.findData("ldl_burden"))
    qtbot.waitUntil(lambda: comparison.canvas.isVisible(), timeout=5_000)
    assert comparison.canvas.figure.axes[0].get_ylabel() == "mmol/L-years"
    shot(window, "fh-curves-mmol")

    path = tmp_path / "comparison.csv"
    comparison.export_csv(path)
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    ldl = next(r for r in rows if r["Outcome"] == "LDL-C on treatment" and
               r["Scenario"] == "Baseline")  # fmt: skip
    assert ldl["Unit"] == "mmol/L" and ldl["Shown"] == f"{untreated / 38.665:.2f} ↑"
    assert float(ldl["Value"]) == pytest.approx(untreated / 38.665)  # the full value beside
    window.close()
