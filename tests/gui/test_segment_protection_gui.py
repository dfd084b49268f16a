"""Segmentation that protects the twin's inputs, clicked as a user would on the demo patient:
region growing previews and applies on confirmation, a twin's labels are locked (editing
one asks, a yes marks the twin's results out of date), "edit only inside", a default label
that is not simply the first, and ROIs/rulers kept in a measurements list with the case.

Ground truth is the demo's label map read from its NIfTI file, not from the window.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from meditwin_desktop.core.imaging.nifti import read_label_map

pytestmark = pytest.mark.gui

LIVER_POINT = np.array([-70.0, 0.0, -40.0])


def _wait_idle(window, qtbot) -> None:
    qtbot.waitUntil(lambda: not window.segments._busy, timeout=60_000)


def _answer_unlock(answer: str, seen: list[str]) -> None:
    """Click a button of the 'Edit a twin's input?' question when it shows."""

    def click() -> None:
        box = next(
            (w for w in QApplication.topLevelWidgets()
             if isinstance(w, QMessageBox) and w.objectName() == "unlock_labels"
             and w.isVisible()),
            None,
        )  # fmt: skip
        if box is None:
            QTimer.singleShot(50, click)
            return
        seen.append(box.text())
        button = {"yes": QMessageBox.StandardButton.Yes,
                  "cancel": QMessageBox.StandardButton.Cancel}[answer]  # fmt: skip
        QTest.mouseClick(box.button(button), Qt.MouseButton.LeftButton)

    QTimer.singleShot(50, click)


def _label(window, name: str) -> int:
    return window.scene.labels.by_name(name).value


def test_defaults_protect_other_labels(main_window):
    scene, panel = main_window.scene, main_window.segments
    assert not panel.overwrite.isChecked() and not scene.overwrite
    under = scene.label_at(scene.cursor)
    active = scene.labels.labels[scene.active_label].name if scene.active_label else None
    assert active == (under if under != "body" else None)  # never just the first label
    locked = {scene.labels.labels[v].name for v in scene.locked_labels}
    assert {"liver", "tumour 1", "tumour 2", "portal vein"} <= locked
    row = next(r for r in range(panel.table.rowCount()) if panel.table.item(r, 1).text() == "liver")
    assert "Liver" in panel.table.item(row, 1).toolTip()
    assert not panel.table.item(row, 1).icon().isNull()  # the padlock


def test_grow_inside_the_liver_previews_then_asks_then_spares_the_tumours(
    main_window, qtbot, demo_patient, shot
):
    truth = read_label_map(demo_patient.labels_path)
    window, scene, panel = main_window, main_window.scene, main_window.segments
    scene.set_cursor(LIVER_POINT)
    before = scene.labels.volume.array.copy()
    value = panel.add_label("liver segment")
    panel.inside.setCurrentIndex(panel.inside.findText("liver"))
    assert scene.edit_inside == _label(window, "liver")
    panel.tools.setCurrentIndex(1)
    panel.grow_low.setValue(75)
    panel.grow_high.setValue(130)
    assert not panel.grow_button.isEnabled()  # nothing to apply before a preview
    QTest.mouseClick(panel.grow_preview_button, Qt.MouseButton.LeftButton)
    _wait_idle(window, qtbot)
    assert scene.preview_mask is not None and panel.grow_button.isEnabled()
    assert np.array_equal(scene.labels.volume.array, before)  # a preview changes nothing
    assert "taken from 'liver'" in panel.status.text()
    image = window.axial.grab().toImage()
    centre = window.axial.lps_to_widget(scene.cursor)
    pixel = image.pixelColor(int(centre.x()) + 3, int(centre.y()) + 3)
    assert pixel.green() > pixel.red() + 30  # the preview's green on the slice
    shot(window, "seg-grow-preview")

    seen: list[str] = []
    _answer_unlock("yes", seen)
    QTest.mouseClick(panel.grow_button, Qt.MouseButton.LeftButton)
    _wait_idle(window, qtbot)
    assert seen and "'liver'" in seen[0] and "Liver" in seen[0] and "out of date" in seen[0]
    after = scene.labels.volume.array
    grown = after == value
    assert grown.sum() > 1000 and scene.preview_mask is None
    liver = truth.mask("liver")
    assert liver[grown].all()  # only liver voxels were taken ...
    for name in ("tumour 1", "tumour 2", "portal vein", "hepatic veins", "right kidney"):
        if name in {lab.name for lab in truth.labels.values()}:
            assert np.array_equal(after == _label(window, name), truth.mask(name)), name
    shot(window, "seg-grow-applied")


def test_cancelling_the_question_changes_nothing(main_window, qtbot):
    window, scene, panel = main_window, main_window.scene, main_window.segments
    scene.set_cursor(LIVER_POINT)
    before = scene.labels.volume.array.copy()
    panel.add_label("try")
    panel.overwrite.setChecked(True)  # takes other labels' voxels, but not a twin's unasked
    panel.tools.setCurrentIndex(1)
    panel.grow_low.setValue(75)
    panel.grow_high.setValue(130)
    QTest.mouseClick(panel.grow_preview_button, Qt.MouseButton.LeftButton)
    _wait_idle(window, qtbot)
    seen: list[str] = []
    _answer_unlock("cancel", seen)
    QTest.mouseClick(panel.grow_button, Qt.MouseButton.LeftButton)
    _wait_idle(window, qtbot)
    assert seen and np.array_equal(scene.labels.volume.array, before)
    assert "nothing was changed" in panel.status.text()


def test_painting_a_locked_label_asks_first(main_window, qtbot):
    window, scene, panel, axial = (main_window, main_window.scene, main_window.segments,
                                   main_window.axial)  # fmt: skip
    scene.set_cursor(LIVER_POINT)
    liver = _label(window, "liver")
    scene.set_active_label(liver)
    panel.tools.setCurrentIndex(2)
    QTest.mouseClick(panel.findChild(type(panel.undo_button), "brush_erase"),
                     Qt.MouseButton.LeftButton)  # fmt: skip
    before = int((scene.labels.volume.array == liver).sum())
    at = axial.lps_to_widget(scene.cursor).toPoint()
    seen: list[str] = []
    _answer_unlock("cancel", seen)
    qtbot.mouseClick(axial, Qt.MouseButton.LeftButton, pos=at)
    qtbot.waitUntil(lambda: bool(seen), timeout=5_000)
    assert int((scene.labels.volume.array == liver).sum()) == before
    _answer_unlock("yes", seen)
    qtbot.mouseClick(axial, Qt.MouseButton.LeftButton, pos=at)
    qtbot.waitUntil(lambda: len(seen) == 2 and liver not in scene.locked_labels, timeout=5_000)
    qtbot.mouseClick(axial, Qt.MouseButton.LeftButton, pos=at + QPoint(2, 0))
    assert int((scene.labels.volume.array == liver).sum()) < before  # now it erases


def test_renaming_a_locked_label_asks_first(main_window, qtbot):
    """The liver twin finds its tumours by name: 'tumour 1' renamed 'lesion A' stops being
    one, so a rename is an edit of the twin's input (it went through unasked)."""
    window, scene, panel = main_window, main_window.scene, main_window.segments
    tumour = _label(window, "tumour 1")
    assert tumour in scene.locked_labels
    row = next(r for r in range(panel.table.rowCount())
               if panel.table.item(r, 1).data(Qt.ItemDataRole.UserRole) == tumour)  # fmt: skip
    seen: list[str] = []
    _answer_unlock("cancel", seen)
    panel.table.item(row, 1).setText("lesion A")  # what the cell's editor commits
    assert seen and "renaming 'tumour 1'" in seen[0].lower()
    assert scene.labels.labels[tumour].name == "tumour 1"
    assert panel.table.item(row, 1).text() == "tumour 1"  # the cell shows the name kept
    _answer_unlock("yes", seen)
    panel.table.item(row, 1).setText("lesion A")
    assert len(seen) == 2 and scene.labels.labels[tumour].name == "lesion A"
    assert tumour not in scene.locked_labels


def test_an_unlocked_edit_marks_the_liver_twins_results_out_of_date(main_window, qtbot):
    from meditwin_desktop.core.case import Run, now
    from meditwin_desktop.core.freshness import current_digest
    from meditwin_desktop.core.scenarios import baseline_of, parameters

    window, scene, panel = main_window, main_window.scene, main_window.segments
    case = window.cases.case
    qtbot.waitUntil(lambda: case.labels is scene.labels, timeout=10_000)  # handed to the case
    twin = window.registry.get("liver_ablation")
    window.twin_panel.select_twin(twin.id)
    scenario = case.scenarios.setdefault(twin.id, [])[0] if case.scenarios.get(twin.id) else None
    assert scenario is not None
    params = parameters(twin, baseline_of(twin, case), scenario)
    run = Run(twin.id, twin.version, scenario.name, params, current_digest(twin, case), "ok",
              None, {}, 1.0, "test", "test", now())  # fmt: skip
    window.session.add_run(run)
    qtbot.waitUntil(lambda: not window._freshness_timer.isActive(), timeout=10_000)
    qtbot.wait(500)
    assert window.stale == {}  # as computed

    scene.set_cursor(LIVER_POINT)
    scene.set_active_label(_label(window, "tumour 1"))
    panel.tools.setCurrentIndex(0)
    panel.threshold_low.setValue(75)
    panel.threshold_high.setValue(130)
    panel.threshold_connected.setChecked(True)
    panel.overwrite.setChecked(True)
    seen: list[str] = []
    _answer_unlock("yes", seen)
    QTest.mouseClick(panel.threshold_apply, Qt.MouseButton.LeftButton)
    _wait_idle(window, qtbot)
    assert seen and "1 result" in seen[0]
    qtbot.waitUntil(lambda: scenario.name in window.stale, timeout=30_000)
    assert window.twin_panel.out_of_date.get(scenario.name)  # the sign on the Twins tab


def test_roi_stays_drawn_is_listed_and_saved_with_the_case(main_window, qtbot, shot):
    window, scene, axial = main_window, main_window.scene, main_window.axial
    scene.set_cursor(np.array([-78.0, 18.0, 95.0]))  # inside the right lung
    centre = axial.lps_to_widget(scene.cursor).toPoint()
    scene.set_tool("roi")
    qtbot.mousePress(axial, Qt.MouseButton.LeftButton, pos=centre - QPoint(15, 15))
    qtbot.mouseMove(axial, centre + QPoint(15, 15))
    qtbot.mouseRelease(axial, Qt.MouseButton.LeftButton, pos=centre + QPoint(15, 15))
    scene.set_tool("navigate")  # Esc's effect: the rectangle stays
    listed = window.image_measurements
    [roi] = window.cases.case.image_measurements
    assert roi.kind == "roi" and roi.view == "axial" and roi.name == "ROI 1"
    assert -900 < roi.values["mean"] < -800  # lung parenchyma
    assert listed.table.rowCount() == 1 and "mean" in listed.table.item(0, 2).text()
    image = axial.grab().toImage()
    edge = image.pixelColor(centre.x(), centre.y() - 15)
    assert edge.red() > 200 and edge.blue() < 150  # the orange rectangle, after release
    shot(window, "measure-roi-kept")

    scene.set_tool("ruler")
    a = axial.lps_to_widget(scene.cursor)
    b = axial.lps_to_widget(scene.cursor + np.array([30.0, 0.0, 0.0]))
    qtbot.mousePress(axial, Qt.MouseButton.LeftButton, pos=a.toPoint())
    qtbot.mouseMove(axial, b.toPoint())
    qtbot.mouseRelease(axial, Qt.MouseButton.LeftButton, pos=b.toPoint())
    scene.set_tool("navigate")
    assert [m.kind for m in window.cases.case.image_measurements] == ["roi", "ruler"]
    assert listed.table.item(1, 1).text().startswith("axial")

    case_id = window.cases.case.id
    window.cases.save("test")
    qtbot.waitUntil(lambda: not window.cases.saving(), timeout=30_000)
    back = window.session.library.load(case_id)
    assert [m.name for m in back.image_measurements] == ["ROI 1", "Ruler 1"]
    assert back.image_measurements[0].values == roi.values


def test_a_dicom_seg_double_clicked_opens_as_labels_on_its_ct(show_window, qtbot, shared_data):
    from meditwin_desktop.core.imaging.nrrd import read_nrrd

    folder = shared_data / "dicom/ct_liver_seg"
    window = show_window()
    window.open_folder(folder)
    tree = window.patients.tree

    def seg_items():
        flags = Qt.MatchFlag.MatchStartsWith | Qt.MatchFlag.MatchRecursive
        return tree.findItems("SEG", flags)

    qtbot.waitUntil(lambda: bool(seg_items()), timeout=30_000)
    [seg_item] = seg_items()
    tree.scrollToItem(seg_item)
    at = tree.visualItemRect(seg_item).center()
    QTest.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=at)
    QTest.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=at)
    qtbot.waitUntil(lambda: window.scene.labels is not None, timeout=60_000)
    assert window.scene.volume.meta["modality"] == "CT"  # the CT, not a white image
    assert [lab.name for lab in window.scene.labels.labels.values()] == ["Liver"]
    reference, _, _ = read_nrrd(folder / "liver_seg.nrrd")
    assert np.array_equal(window.scene.labels.volume.array > 0, reference > 0)

    seen: list[str] = []
    _answer_unlock("yes", seen)  # 'Liver' is the liver twin's input: replacing it asks
    window.import_label_file(folder / "liver_seg.nrrd")  # File > Import labels, NRRD
    assert seen and "'Liver'" in seen[0]
    qtbot.waitUntil(
        lambda: [lab.name for lab in window.scene.labels.labels.values()] == ["label 1"],
        timeout=30_000,
    )
    assert np.array_equal(window.scene.labels.volume.array > 0, reference > 0)

    # the CT's saved case now has labels of its own: the SEG double-clicked again is
    # imported over them (asked), not dropped for the case's labels under a message
    # saying that the SEG opens
    window.cases.save("test")
    qtbot.waitUntil(lambda: not window.cases.saving(), timeout=30_000)
    window.switch_case(None)
    [seg_item] = seg_items()
    at = tree.visualItemRect(seg_item).center()
    _answer_unlock("yes", seen)
    QTest.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=at)
    QTest.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=at)
    qtbot.waitUntil(
        lambda: (
            window.scene.labels is not None
            and [lab.name for lab in window.scene.labels.labels.values()] == ["Liver"]
        ),
        timeout=60_000,
    )
    window.close()


def test_measurements_come_back_drawn_when_the_case_is_reopened(main_window, qtbot):
    window, scene, axial = main_window, main_window.scene, main_window.axial
    scene.set_cursor(np.array([-78.0, 18.0, 95.0]))
    centre = axial.lps_to_widget(scene.cursor).toPoint()
    scene.set_tool("roi")
    qtbot.mousePress(axial, Qt.MouseButton.LeftButton, pos=centre - QPoint(15, 15))
    qtbot.mouseMove(axial, centre + QPoint(15, 15))
    qtbot.mouseRelease(axial, Qt.MouseButton.LeftButton, pos=centre + QPoint(15, 15))
    scene.set_tool("navigate")
    case_id = window.cases.case.id
    window.open_case(case_id)  # saves, closes and opens it again from the library
    qtbot.waitUntil(
        lambda: (
            window.cases.case is not None
            and window.cases.case.revision > 0
            and scene.volume is window.cases.case.image
            and window.image_measurements.table.rowCount() == 1
        ),
        timeout=60_000,
    )
    assert window.image_measurements.table.item(0, 0).text() == "ROI 1"
    scene.set_cursor(np.array([-78.0, 18.0, 95.0]))
    qtbot.wait(300)
    image = axial.grab().toImage()
    centre = axial.lps_to_widget(scene.cursor).toPoint()
    edge = image.pixelColor(centre.x(), centre.y() - 15)
    assert edge.red() > 200 and edge.blue() < 150  # drawn again on its slice
