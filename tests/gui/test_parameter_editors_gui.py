"""Scenario cells edited by kind: a choice by its clinical label (its code stored), a flag
as yes / no / as the baseline."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QComboBox

pytestmark = pytest.mark.gui


def _edit_combo(table, row: int, column: int, text: str, qtbot) -> None:
    table.setCurrentCell(row, column)
    table.editItem(table.item(row, column))
    qtbot.waitUntil(lambda: table.viewport().findChild(QComboBox) is not None)
    combo = table.viewport().findChild(QComboBox)
    assert combo.findText(text) >= 0, [combo.itemText(i) for i in range(combo.count())]
    combo.setCurrentIndex(combo.findText(text))
    QTest.keyClick(combo, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: table.viewport().findChild(QComboBox) is None)


def test_choices_show_clinical_labels_and_store_codes(show_window, qtbot):
    window = show_window(1500, 950)
    window.open_demo_case("fh-patient")
    qtbot.waitUntil(lambda: window.cases.case is not None, timeout=10_000)
    window.twins_dock.raise_()
    panel = window.twin_panel
    panel.select_twin("cardiometabolic")
    scenario = panel.add_scenario("statin")
    table = panel.scenarios
    _edit_combo(table, 1, panel.column_of("therapy"), "high-intensity statin", qtbot)
    assert scenario.overrides["therapy"] == "statin_high"  # the code is stored
    assert table.item(1, panel.column_of("therapy")).text() == "high-intensity statin"
    _edit_combo(table, 1, panel.column_of("smoker"), "no", qtbot)
    assert scenario.overrides["smoker"] is False
    _edit_combo(table, 1, panel.column_of("smoker"), "(baseline (yes))", qtbot)
    assert "smoker" not in scenario.overrides  # back to the baseline


def test_a_file_cell_takes_the_typing_and_shows_the_baseline(show_window, qtbot, tmp_path):
    """Review of issue 20: the model-file editor opened empty and the keys went to the
    window (they toggled the label overlay)."""
    from PySide6.QtWidgets import QLineEdit

    window = show_window(1500, 950)
    window.open_demo_case("alzheimer-mci")
    qtbot.waitUntil(lambda: window.cases.case is not None, timeout=120_000)
    window.twins_dock.raise_()
    panel = window.twin_panel
    panel.select_twin("alzheimer")
    scenario = panel.add_scenario("own model")
    table = panel.scenarios
    column = panel.column_of("model_file")
    table.setCurrentCell(1, column)
    table.editItem(table.item(1, column))
    qtbot.waitUntil(lambda: table.viewport().findChild(QLineEdit) is not None)
    line = table.viewport().findChild(QLineEdit)
    assert "built-in demonstration model" in (line.text() or line.placeholderText())
    assert line.parentWidget().focusProxy() is line  # the cell's focus is the path's
    path = tmp_path / "site_model.json"
    line.clear()
    QTest.keyClicks(line, str(path))
    QTest.keyClick(line, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: scenario.overrides.get("model_file") == str(path), timeout=2_000)
    window.close()
