"""Brain MRI volumes in the "Case data" dock, used as a clinician would: the real buttons of
the Measurements tab, hippocampal volumes measured from a study's labels (asked before
replacing), FreeSurfer's aseg.stats imported for a visit date typed in the real dialog, and a
bad file reported without touching the case.

Set MEDITWIN_SHOTS=DIR to keep screenshots of each step.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox, QTabBar

from meditwin_desktop.core.case import Case, Study
from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume
from meditwin_desktop.ui import case_data_panel
from meditwin_desktop.ui.case_data_panel import VisitDateDialog

pytestmark = pytest.mark.gui

ASEG_STATS = Path(__file__).parents[1] / "data" / "freesurfer" / "aseg.stats"
VOXEL_ML = 1.0 * 1.0 * 1.2 / 1000  # spacing 1.0 x 1.0 x 1.2 mm


def _mri_study() -> Study:
    image = np.full((30, 40, 40), 80, np.int16)
    labels = np.zeros(image.shape, np.uint8)
    labels[10:20, 10:20, 5:15] = 1  # 1000 voxels: left hippocampus
    labels[10:20, 10:22, 25:35] = 2  # 1200 voxels: right hippocampus
    labels[0:30, 25:40, 0:40] = 3  # 30 * 15 * 40 = 18000 voxels: intracranial (a toy)
    affine = np.diag([1.0, 1.0, 1.2, 1.0])
    names = {1: "left hippocampus", 2: "right hippocampus", 3: "intracranial"}
    label_map = LabelMap(
        Volume(labels, affine), {v: Label(v, n, (200, 80, 80)) for v, n in names.items()}
    )
    return Study(date="2024-03-12", modality="MR", image=Volume(image, affine), labels=label_map)


@pytest.fixture
def window(show_window):
    window = show_window(1500, 950)
    window.switch_case(Case("Alzheimer test", "A-001", studies=[_mri_study()]))
    window.case_data_dock.show()
    window.case_data_dock.raise_()
    yield window
    window.close()


def _click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def _modal(qtbot, kind):
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), kind), timeout=5000)
    return QApplication.activeModalWidget()


def _rows(case: Case) -> dict[tuple[str, str, str], float]:
    return {(m.date, m.name, m.target): m.value for m in case.measurements}


def test_hippocampal_volumes_from_labels_and_freesurfer(window, qtbot, shot, monkeypatch, tmp_path):
    panel = window.case_data
    bar = panel.tabs.findChild(QTabBar)
    index = next(i for i in range(bar.count()) if bar.tabText(i) == "Measurements")
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    case = window.session.case

    _click(qtbot, panel.hippocampus_button)
    rows = _rows(case)
    assert rows[("2024-03-12", "Hippocampal volume", "left")] == round(1000 * VOXEL_ML, 4)
    assert rows[("2024-03-12", "Hippocampal volume", "right")] == round(1200 * VOXEL_ML, 4)
    assert rows[("2024-03-12", "Hippocampus volume ratio", "")] == pytest.approx(
        2200 / 18000, rel=1e-5
    )
    assert len(rows) == 5 and window.session.dirty
    assert panel.measurements.table.rowCount() == 5
    assert {m.source for m in case.measurements} == {"labels of study 2024-03-12"}
    assert (
        "5 measurement(s) for the visit of 2024-03-12 (labels of study 2024-03-12)"
        in panel.message.text()
    )
    assert "intracranial volume is 21.6 mL" in panel.message.text()  # a toy head: a note
    shot(window.case_data_dock, "brain_volumes_from_labels")

    case.measurements[0].value = 99.0  # an edited value: measuring again asks first
    _click(qtbot, panel.hippocampus_button)
    box = _modal(qtbot, QMessageBox)
    assert "Replace them with those from labels of study 2024-03-12" in box.text()
    assert "Hippocampal volume (left): 99 mL (labels of study 2024-03-12) → 1.2 mL" in box.text()
    shot(box, "brain_volumes_replace")
    replace = next(b for b in box.buttons() if b.text() == "Replace")
    _click(qtbot, replace)
    assert len(case.measurements) == 5 and 99.0 not in _rows(case).values()
    assert "5 earlier value(s) replaced" in panel.message.text()

    # FreeSurfer's aseg.stats, for another visit typed in the date dialog
    monkeypatch.setattr(case_data_panel, "ask_file", lambda *a: str(ASEG_STATS))
    _click(qtbot, panel.aseg_button)
    dialog = _modal(qtbot, VisitDateDialog)
    assert dialog.date.date() == QDate(2024, 3, 12)  # the study on screen's date by default
    dialog.date.setDate(QDate(2025, 3, 10))
    shot(dialog, "brain_volumes_visit_date")
    _click(qtbot, dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok))
    qtbot.waitUntil(lambda: len(case.measurements) == 10, timeout=5000)
    rows = _rows(case)
    # tests/data/freesurfer/aseg.stats: 3561.2 and 3702.8 mm^3, eTIV 1523456.789012 mm^3
    assert rows[("2025-03-10", "Hippocampal volume", "left")] == 3.5612
    assert rows[("2025-03-10", "Hippocampal volume", "right")] == 3.7028
    assert rows[("2025-03-10", "Intracranial volume", "")] == 1523.4568
    assert "the visit of 2025-03-10 (FreeSurfer aseg.stats)" in panel.message.text()
    assert panel.measurements.table.rowCount() == 10
    shot(window.case_data_dock, "brain_volumes_aseg_stats")

    # the same file and date again: the same values, nothing to ask
    _click(qtbot, panel.aseg_button)
    dialog = _modal(qtbot, VisitDateDialog)
    dialog.date.setDate(QDate(2025, 3, 10))
    _click(qtbot, dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok))
    qtbot.waitUntil(lambda: "5 earlier value(s) replaced" in panel.message.text(), timeout=5000)
    assert _rows(case) == rows

    # aseg.mgz for that visit has no intracranial volume: the ratio would outlive the
    # volumes it came from, so the question lists it as removed; cancelled, nothing changes
    monkeypatch.setattr(case_data_panel, "ask_file", lambda *a: str(ASEG_STATS.with_name(
        "aseg.mgz")))  # fmt: skip
    _click(qtbot, panel.aseg_button)
    dialog = _modal(qtbot, VisitDateDialog)
    dialog.date.setDate(QDate(2025, 3, 10))
    _click(qtbot, dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok))
    box = _modal(qtbot, QMessageBox)
    assert "Hippocampus volume ratio: 0.00476" in box.text()
    assert box.text().count("removed (not in the new values)") == 2  # ICV and the ratio
    _click(qtbot, box.button(QMessageBox.StandardButton.Cancel))
    assert _rows(case) == rows and "Nothing imported" in panel.message.text()

    # a file that is not an aseg.stats: said plainly, nothing added
    bad = tmp_path / "lh.aparc.stats"
    bad.write_text("# ColHeaders StructName NumVert SurfArea GrayVol\nbankssts 1 2 3\n")
    monkeypatch.setattr(case_data_panel, "ask_file", lambda *a: str(bad))
    _click(qtbot, panel.aseg_button)
    dialog = _modal(qtbot, VisitDateDialog)
    _click(qtbot, dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok))
    qtbot.waitUntil(lambda: "is not an aseg.stats file" in panel.message.text(), timeout=5000)
    assert len(case.measurements) == 10
    shot(window.case_data_dock, "brain_volumes_bad_file")


def test_no_hippocampus_label_says_what_to_draw(show_window, qtbot):
    window = show_window(1400, 900)
    study = _mri_study()
    study.labels.labels = {3: Label(3, "intracranial", (200, 80, 80))}
    window.switch_case(Case("No hippocampus", "A-002", studies=[study]))
    panel = window.case_data
    _click(qtbot, panel.hippocampus_button)
    assert "No hippocampus label in this study (its labels: 'intracranial')" in (
        panel.message.text()
    )
    assert window.session.case.measurements == []
    window.close()
