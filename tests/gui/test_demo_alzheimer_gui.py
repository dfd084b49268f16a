"""The `alzheimer-mci` demo opens from the demo menu's path: its T1 MRI with the hippocampus
labels on the slices, the visits in the Measurements tab, and its EEG opens in the viewer."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from meditwin_desktop.demo import alzheimer_visits, brain_anatomy

pytestmark = pytest.mark.gui
NAME = "alzheimer-mci"


def test_alzheimer_demo_shows_the_mri_visits_and_eeg(show_window, qtbot, shot):
    window = show_window(1500, 950)
    window.open_demo_case(NAME)
    qtbot.waitUntil(lambda: window.cases.case is not None and window.scene.volume is not None,
                    timeout=300_000)  # fmt: skip
    case = window.cases.case
    assert case.id == f"demo-{NAME}" and case.study.modality == "MR"
    assert window.scene.volume.shape == brain_anatomy.SHAPE
    names = {label.name for label in case.labels.labels.values()}
    assert names == {"left hippocampus", "right hippocampus", "intracranial"}
    panel = window.case_data
    table = panel.measurements.table
    mmse = [row for row in range(table.rowCount())
            if any(table.item(row, c) and table.item(row, c).text() == "MMSE"
                   for c in range(table.columnCount()))]  # fmt: skip
    assert len(mmse) == len(alzheimer_visits.VISIT_DATES)
    window.case_data_dock.raise_()
    panel.tabs.setCurrentWidget(panel.recordings)
    assert panel.recordings.table.rowCount() == 1
    panel.recordings.table.selectRow(0)
    qtbot.mouseClick(panel.recordings.edit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(panel.viewers) == 1, timeout=10_000)
    [viewer] = panel.viewers.values()
    qtbot.waitUntil(lambda: viewer.canvas.page is not None, timeout=30_000)
    assert viewer.canvas.page.data.shape[0] == len(alzheimer_visits.EEG_CHANNELS)
    qtbot.wait(200)
    shot(window, "demo_alzheimer_mci")
    shot(viewer, "demo_alzheimer_mci_eeg")
    viewer.close()
    window.close()
