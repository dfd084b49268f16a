"""Several dated studies in one case, clicked as a user would: add a photograph and a
follow-up series, switch between them, import a case file."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

pytestmark = pytest.mark.gui


def _click_row(widget, row: int) -> None:
    rect = widget.visualItemRect(widget.item(row))
    QTest.mouseClick(widget.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_a_case_holds_a_photograph_and_a_series_and_shows_either(show_window, qtbot, tmp_path,
                                                                 shared_data):  # fmt: skip
    from meditwin_desktop.core.imaging.dicom.write import SeriesHeader, write_ct_series
    from meditwin_desktop.core.imaging.geometry import affine_from
    from meditwin_desktop.core.imaging.volume import Volume

    window = show_window(1500, 950)
    window.open_demo_case("fh-patient")
    qtbot.waitUntil(lambda: window.cases.case is not None, timeout=10_000)
    window.studies_dock.raise_()
    photo = shared_data / "retina" / "CHASE_DB1" / "Image_01L.jpg"
    window.add_photo_to_case(photo)
    qtbot.waitUntil(lambda: len(window.cases.case.studies) == 1, timeout=10_000)
    qtbot.waitUntil(lambda: window.centre.currentWidget() is window.photo_view)
    assert window.photo_view.photo.shape == (960, 999)
    assert "photograph Image_01L.jpg" in window.studies.list.item(0).text()

    volume = Volume(np.full((5, 20, 20), 40, np.int16), affine_from([0, 0, 0], np.eye(3),
                                                                    [1, 1, 1]))  # fmt: skip
    write_ct_series(volume, tmp_path / "other", SeriesHeader("OTHER^ONE", "X9", uid_seed="x"))
    window.add_series_to_case(tmp_path / "other")  # another patient's: refused
    qtbot.waitUntil(lambda: _message_box("belong to another patient") is not None, timeout=20_000)
    _message_box("belong to another patient").close()
    assert len(window.cases.case.studies) == 1
    write_ct_series(volume, tmp_path / "ct",
                    SeriesHeader("DEMO^FH", "MEDITWIN-DEMO-003", uid_seed="fu"))  # fmt: skip
    window.add_series_to_case(tmp_path / "ct")
    qtbot.waitUntil(lambda: len(window.cases.case.studies) == 2, timeout=20_000)
    qtbot.waitUntil(lambda: window.scene.volume is not None, timeout=20_000)
    assert window.scene.volume.shape == (5, 20, 20) and window.centre.currentIndex() == 0
    _click_row(window.studies.list, 0)  # back to the photograph
    qtbot.waitUntil(lambda: window.centre.currentWidget() is window.photo_view)
    assert window.cases.case.active == 0 and window.scene.volume is None
    window.cases.save()
    qtbot.waitUntil(lambda: window.session.library.exists(window.cases.case.id), timeout=10_000)
    saved = window.session.library.load(window.cases.case.id)
    assert [s.modality for s in saved.studies] == ["XC", "CT"]
    window.remove_study(0)  # the photograph goes; the series is shown
    qtbot.waitUntil(lambda: window.scene.volume is not None, timeout=20_000)
    assert [s.modality for s in window.cases.case.studies] == ["CT"]
    assert window.studies.list.count() == 1


def test_a_case_file_imports_from_the_file_menu(show_window, qtbot, tmp_path):
    from meditwin_desktop.core.case import Case, Measurement
    from meditwin_desktop.core.case_file import export_case

    path = export_case(Case("Case From File", "CF-1", clinical={"age_y": 50.0},
                            measurements=[Measurement("MMSE", 26.0, "points", "2024-01-01")]),
                       tmp_path / "case.json")  # fmt: skip
    window = show_window()
    window.import_case(path)
    qtbot.waitUntil(lambda: window.cases.case is not None, timeout=10_000)
    assert "Case From File" in window.banner.text()
    assert window.cases.case.measurements[0].value == 26.0
    qtbot.waitUntil(lambda: window.session.library.exists(window.cases.case.id), timeout=10_000)


def _message_box(text: str):
    from PySide6.QtWidgets import QApplication, QMessageBox

    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]
    return next((w for w in boxes if w.isVisible() and text in w.text()), None)
