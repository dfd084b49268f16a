"""Trust, clicked as a user would: the right patient on screen after every switch, stale
results and model warnings visible, the two crashes behind a tab and a button, the case
history, a damaged library or an unusable data folder."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox, QProgressBar, QPushButton

from meditwin_desktop.ui.scene import Ruler

pytestmark = pytest.mark.gui
EXTRA = "tests.support.reference_twin:TWIN"


def _menu_action(window, *path: str):
    """The QAction reached through the menu bar by its visible texts ('&' ignored)."""
    actions = window.menuBar().actions()
    for part in path:
        action = next(a for a in actions if a.text().replace("&", "") == part)
        actions = action.menu().actions() if action.menu() else []
    return action


def _click_tab(tabs, title: str) -> None:
    bar = tabs.tabBar()
    index = next(i for i in range(tabs.count()) if tabs.tabText(i) == title)
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())


def _wait_runs(window, qtbot) -> None:
    table = window.twin_panel.scenarios

    def done() -> bool:
        bars = [table.cellWidget(r, 1).findChild(QProgressBar) for r in range(table.rowCount())]
        return not window.twin_panel.running() and all(b.value() == 1000 for b in bars)

    qtbot.waitUntil(done, timeout=120_000)


@pytest.fixture
def fh_window(show_window, qtbot):
    window = show_window(1500, 950)
    _menu_action(window, "File", "Open demo case",
                 "Familial hypercholesterolaemia (clinical data)").trigger()  # fmt: skip
    qtbot.waitUntil(lambda: window.cases.case is not None, timeout=10_000)
    window.twin_panel.select_twin("cardiometabolic")
    yield window
    window.close()


def test_switching_case_replaces_every_panel_and_names_the_patient(main_window, qtbot):
    window = main_window
    qtbot.waitUntil(lambda: window.cases.case is not None and window.scene.labels is not None,
                    timeout=60_000)  # fmt: skip
    ct_case = window.cases.case
    assert (
        "DEMO Thorax-Abdomen" in window.banner.text() and "born 1961-03-15" in window.banner.text()
    )
    assert window.windowTitle().startswith("DEMO Thorax-Abdomen (MEDITWIN-DEMO-001)")
    window.scene.add_ruler(Ruler(np.zeros(3), np.ones(3)))
    _menu_action(window, "File", "Open demo case",
                 "Familial hypercholesterolaemia (clinical data)").trigger()  # fmt: skip
    qtbot.waitUntil(lambda: window.cases.case is not ct_case, timeout=10_000)
    case = window.cases.case
    assert case.patient_id == "MEDITWIN-DEMO-003"
    assert "familial hypercholesterolaemia" in window.banner.text()
    assert "MEDITWIN-DEMO-003" in window.windowTitle()
    assert window.scene.volume is None and window.scene.labels is None and not window.scene.rulers
    assert window.patients.tree.topLevelItemCount() == 0  # the CT patient's browser is gone
    assert window.centre.currentWidget() is window.overview
    assert window.twin_panel.twin is not None and window.twin_panel.twin.id == "cardiometabolic"
    assert window.comparison.table.columnCount() <= 1  # no scenario of the previous patient
    assert window.clinical._editors["ldl_mg_dl"].text.text() == "240"

    _menu_action(window, "File", "Open demo patient").trigger()  # the CT again
    qtbot.waitUntil(lambda: window.cases.case is not None and window.cases.case.id == ct_case.id
                    and window.scene.labels is not None, timeout=60_000)  # fmt: skip
    names = [c.name for c in window.session.library.cases()]
    assert len(names) == len(set(names)), names  # reopened, never a duplicate


def test_the_3d_results_tab_shows_grid_fields(show_window, qtbot, monkeypatch, demo_patient):
    """Crash 1: the tab's default field (three slices of a grid) was a MultiBlock."""
    monkeypatch.setenv("MEDITWIN_EXTRA_TWINS", EXTRA)
    window = show_window(1500, 950)
    with qtbot.waitSignal(window.ready, timeout=120_000):
        window.open_demo()
    qtbot.waitUntil(lambda: window.cases.case is not None and window.cases.case.labels is not None,
                    timeout=60_000)  # fmt: skip
    qtbot.waitUntil(lambda: window.twin_panel.twin is not None, timeout=10_000)
    window.twin_panel.select_twin("reference")
    qtbot.waitUntil(lambda: not window.twin_panel.personalising(), timeout=30_000)
    window.twin_panel.add_scenario("fast", {"rate": "2"})
    QTest.mouseClick(window.twin_panel.buttons["Run all"], Qt.MouseButton.LeftButton)
    _wait_runs(window, qtbot)
    qtbot.waitUntil(lambda: window.comparison.table.columnCount() == 3, timeout=10_000)
    _click_tab(window.comparison.tabs, "3D results")
    qtbot.waitUntil(lambda: len(window.comparison.viewports) == 2, timeout=10_000)
    assert "2 scenario(s), shared camera" in window.comparison.spatial_note.text()
    assert all(v.renderer.actors for v in window.comparison.viewports)
    window.close()


def test_rename_scenario_button_renames(fh_window, qtbot):
    """Crash 2: Rename received clicked(bool) as the new name."""
    panel = fh_window.twin_panel
    fh_window.twins_dock.raise_()
    panel.add_scenario("statin", {"therapy": "statin_high"})
    panel.scenarios.selectRow(1)

    def answer() -> None:
        dialog = next(w for w in QApplication.topLevelWidgets()
                      if isinstance(w, QInputDialog) and w.isVisible())  # fmt: skip
        dialog.setTextValue("High-intensity statin")
        dialog.accept()

    QTimer.singleShot(300, answer)
    QTest.mouseClick(panel.buttons["Rename"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.scenarios.item(1, 0).text() == "High-intensity statin")
    assert [s.name for s in fh_window.cases.case.scenarios["cardiometabolic"]] == [
        "Baseline", "High-intensity statin"]  # fmt: skip


def test_a_changed_ldl_marks_results_out_of_date_until_run_again(fh_window, qtbot):
    window, panel, comparison = fh_window, fh_window.twin_panel, fh_window.comparison
    panel.add_scenario("statin", {"therapy": "statin_high"})
    QTest.mouseClick(panel.buttons["Run all"], Qt.MouseButton.LeftButton)
    _wait_runs(window, qtbot)
    qtbot.waitUntil(lambda: comparison.table.columnCount() == 3, timeout=10_000)
    assert comparison.stale_bar.isHidden()
    notes = comparison.notes.text()  # the model's warnings, beside the table
    assert "Dutch Lipid Clinic Network" in notes and not comparison.notes.isHidden()
    assert comparison.table.horizontalHeaderItem(1).text().startswith("⚠")

    ldl = window.clinical._editors["ldl_mg_dl"]
    ldl.text.setText("193")
    ldl.edited.emit()
    qtbot.waitUntil(lambda: not comparison.stale_bar.isHidden(), timeout=20_000)
    assert "240 → 193 mg/dL" in comparison.stale_text.text()
    header = comparison.table.horizontalHeaderItem(1).text()
    assert "out of date" in header
    assert not any(comparison.table.item(r, c).text().startswith("★")
                   for r in range(comparison.table.rowCount()) for c in (1, 2))  # fmt: skip
    bar = panel.scenarios.cellWidget(0, 1).findChild(QProgressBar)
    assert bar.format() == "outdated"

    refresh = comparison.stale_bar.findChild(QPushButton, "refresh_runs")
    QTest.mouseClick(refresh, Qt.MouseButton.LeftButton)  # "Run all again"
    _wait_runs(window, qtbot)
    qtbot.waitUntil(lambda: comparison.stale_bar.isHidden(), timeout=20_000)
    assert "out of date" not in comparison.table.horizontalHeaderItem(1).text()


def test_a_pseudonym_hides_the_identity_on_screen_until_the_case_changes(fh_window, qtbot):
    window = fh_window
    case = window.cases.case
    window.session.set_pseudonym("MDT-017")
    shown = " ".join([window.banner.text(), window.windowTitle(), window.overview.text.text()])
    assert "MDT-017" in shown and case.name not in shown and case.patient_id not in shown
    assert window.patients.tree.isHidden()
    _menu_action(window, "File", "Open demo case",
                 "Newborn with hypoplastic left heart (clinical data)").trigger()  # fmt: skip
    qtbot.waitUntil(lambda: window.cases.case is not case, timeout=10_000)
    assert "MDT-017" not in window.banner.text()  # never carried to another patient
    assert "MEDITWIN-DEMO-002" in window.banner.text() and not window.patients.tree.isHidden()


def test_a_demo_case_reopens_with_its_saved_scenarios(fh_window, qtbot):
    window = fh_window
    window.twin_panel.add_scenario("High statin", {"therapy": "statin_high"})
    _menu_action(window, "File", "Open demo case",
                 "Newborn with hypoplastic left heart (clinical data)").trigger()  # fmt: skip
    qtbot.waitUntil(lambda: _open_id(window) == "demo-neonate-hlhs", timeout=10_000)
    _menu_action(window, "File", "Open demo case",
                 "Familial hypercholesterolaemia (clinical data)").trigger()  # fmt: skip
    qtbot.waitUntil(lambda: _open_id(window) == "demo-fh-patient"
                    and window.cases.case.revision > 0, timeout=20_000)  # fmt: skip
    names = [s.name for s in window.cases.case.scenarios["cardiometabolic"]]
    assert names == ["Baseline", "High statin"]  # the saved case, not a fresh one


def _open_id(window) -> str | None:
    return window.cases.case.id if window.cases.case is not None else None


def test_labels_edited_just_before_switching_series_are_saved(show_window, qtbot, tmp_path):
    from meditwin_desktop.core.imaging.dicom.write import SeriesHeader, write_ct_series
    from meditwin_desktop.core.imaging.geometry import affine_from
    from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume

    affine = affine_from([0, 0, 0], np.eye(3), [1, 1, 1])
    for name, seed in (("ONE^PATIENT", "one"), ("TWO^PATIENT", "two")):
        volume = Volume(np.zeros((4, 16, 16), np.int16), affine)
        write_ct_series(volume, tmp_path / seed, SeriesHeader(name, seed.upper(), uid_seed=seed))
    window = show_window()
    window.open_folder(tmp_path / "one")
    qtbot.waitUntil(lambda: window.cases.case is not None, timeout=30_000)
    first = window.cases.case
    labels = np.zeros((4, 16, 16), np.uint8)
    labels[1:3, 4:9, 4:9] = 1
    window.scene.set_labels(LabelMap(Volume(labels, affine), {1: Label(1, "lesion", (1, 2, 3))}))
    window.open_folder(tmp_path / "two")  # at once: within the 800 ms the labels wait
    qtbot.waitUntil(lambda: window.cases.case is not None and window.cases.case is not first,
                    timeout=30_000)  # fmt: skip
    library = window.session.library
    qtbot.waitUntil(lambda: library.exists(first.id), timeout=10_000)
    saved = library.load(first.id)
    assert saved.labels is not None and saved.labels.volume.array.sum() == labels.sum()


def test_decimal_commas_are_read_as_decimal_points(fh_window):
    panel = fh_window.twin_panel
    scenario = panel.add_scenario("lower BP")
    column = panel.column_of("sbp_mmhg")
    panel.scenarios.item(1, column).setText("127,5")
    assert float(scenario.overrides["sbp_mmhg"]) == 127.5


def test_history_restores_an_earlier_revision(fh_window, qtbot):
    window = fh_window
    window.cases.save()
    qtbot.waitUntil(lambda: "saved (revision 1)" in window.message.text(), timeout=10_000)
    ldl = window.clinical._editors["ldl_mg_dl"]
    ldl.text.setText("200")
    ldl.edited.emit()
    window.cases.save()
    qtbot.waitUntil(lambda: "saved (revision 2)" in window.message.text(), timeout=10_000)
    _menu_action(window, "File", "Case history…").trigger()
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "case_problems") is None
                    and _dialog("history_dialog") is not None)  # fmt: skip
    dialog = _dialog("history_dialog")
    assert dialog.table.rowCount() == 2
    dialog.table.selectRow(1)  # revision 1
    QTest.mouseClick(dialog.restore, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.cases.case is not None and window.cases.case.revision == 3,
                    timeout=20_000)  # fmt: skip
    assert window.cases.case.clinical["ldl_mg_dl"] == 240.0
    assert window.clinical._editors["ldl_mg_dl"].text.text() == "240"


def _dialog(name: str):
    return next((w for w in QApplication.topLevelWidgets() if w.objectName() == name
                 and w.isVisible()), None)  # fmt: skip


def test_a_damaged_library_leaves_the_workstation_usable(
    qtbot, tmp_path, monkeypatch, private_library
):
    from meditwin_desktop.core.store import CaseLibrary
    from meditwin_desktop.ui import main_window
    from tests.gui.conftest import _show_window

    root = tmp_path / "data" / "cases"
    CaseLibrary(root)
    (root / "library.sqlite").write_bytes(b"garbage, not SQLite" * 50)
    monkeypatch.setattr(main_window, "open_library", lambda: private_library(root))
    window = _show_window(qtbot)
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "library_problem") is not None)
    box = window.findChild(QMessageBox, "library_problem")
    assert "not an SQLite database" in box.text()
    assert "case library unavailable" in window.banner.text()
    new = next(b for b in box.buttons() if b.text().startswith("Start a new library"))
    QTest.mouseClick(new, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.library is not None)
    assert list(root.glob("library.damaged-*.sqlite"))  # kept, never deleted
    assert "unavailable" not in window.banner.text()
    window.close()


def test_an_unusable_data_folder_still_opens_images(qtbot, tmp_path, monkeypatch, private_library):
    from meditwin_desktop.core.imaging.dicom.write import SeriesHeader, write_ct_series
    from meditwin_desktop.core.imaging.geometry import affine_from
    from meditwin_desktop.core.imaging.volume import Volume
    from meditwin_desktop.ui import main_window
    from tests.gui.conftest import _show_window

    blocker = tmp_path / "a-file"
    blocker.write_text("the data folder cannot be made under a file")
    monkeypatch.setenv("MEDITWIN_HOME", str(blocker / "home"))
    monkeypatch.setattr(main_window, "open_library", lambda: private_library())
    volume = Volume(np.arange(4 * 16 * 16, dtype=np.int16).reshape(4, 16, 16),
                    affine_from([0, 0, 0], np.eye(3), [1, 1, 1]))  # fmt: skip
    write_ct_series(volume, tmp_path / "ct", SeriesHeader("VIEW^ONLY", "V1", uid_seed="v"))
    window = _show_window(qtbot)
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "library_problem") is not None)
    window.findChild(QMessageBox, "library_problem").close()
    window.open_folder(tmp_path / "ct")
    qtbot.waitUntil(lambda: window.cases.case is not None, timeout=30_000)
    assert window.scene.volume.shape == (4, 16, 16)
    assert "VIEW ONLY" in window.banner.text() and "nothing is saved" in window.banner.text()
    window.cases.save()
    assert "Not saved" in window.message.text()
    window.close()


def test_the_report_dialog_offers_a_pseudonym(fh_window, qtbot, tmp_path):
    from meditwin_desktop.ui.case_dialogs import ReportDialog

    window = fh_window
    QTest.mouseClick(window.twin_panel.buttons["Run all"], Qt.MouseButton.LeftButton)
    _wait_runs(window, qtbot)
    dialog = ReportDialog(window.cases.case, None, {}, window)
    dialog.pseudonymised.setChecked(True)
    dialog.pseudonym_text.setText("MDT-017")
    dialog.file.setText(str(tmp_path / "board.pdf"))
    dialog._accept()
    assert (dialog.path, dialog.pseudonym) == (tmp_path / "board.pdf", "MDT-017")
    window.export_report(dialog.path, pseudonym=dialog.pseudonym)
    qtbot.waitUntil(dialog.path.exists, timeout=60_000)
    dialog.file.setText("/dev/full")
    dialog.path = None
    QTimer.singleShot(200, lambda: _close_boxes())
    dialog._accept()  # refused: not a regular file
    assert dialog.path is None


def _close_boxes() -> None:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QMessageBox) and widget.isVisible():
            widget.close()
