"""What users of 3D Slicer and Horos expect of a workstation (issue 17, point 6): a View menu
that brings every panel back, a welcome page, the active tool in sight and Esc to leave it,
positions read as R/A/S, overlay text readable on bright images, a 3D header never cut."""

import itertools

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from meditwin_desktop.core.imaging.geometry import offset_text, position_text
from meditwin_desktop.ui.overlay_text import outlined_text

pytestmark = pytest.mark.gui


def _rgb(widget) -> np.ndarray:
    return _rgb_image(widget.grab().toImage())


def _rgb_image(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8, count=image.bytesPerLine() * height)
    return data.reshape(height, image.bytesPerLine())[:, : width * 3].reshape(height, width, 3)


def test_positions_read_as_sides_and_distances():
    assert position_text([-94.4, -14.0, 38.0]) == "R 94.4 / A 14.0 / S 38.0"
    assert position_text([94.44, 14.0, -38.0]) == "L 94.4 / P 14.0 / I 38.0"
    assert offset_text([0, 0, 1], -38.0) == "I 38.0 mm"
    assert offset_text([1, 0, 0], 0.8) == "L 0.8 mm"


def test_view_menu_brings_back_a_closed_twins_panel(show_window, qtbot):
    window = show_window()
    window.twins_dock.close()
    assert not window.twins_dock.isVisible()
    toggles = {a.text(): a for a in window.panels_menu.actions()}
    assert {"Patients", "Segmentation", "Clinical", "Case data", "Twins"} <= set(toggles)
    toggles["Twins"].trigger()
    qtbot.waitUntil(window.twins_dock.isVisible)
    # closed and floated panels all come back where they start
    window.twins_dock.close()
    window.segmentation_dock.close()
    window.clinical_dock.setFloating(True)
    restore = next(a for a in window.menuBar().actions() if a.text() == "&View").menu()
    next(a for a in restore.actions() if a.text() == "&Restore all panels").trigger()
    for dock in (window.twins_dock, window.segmentation_dock, window.clinical_dock):
        assert dock.isVisible(), dock.objectName()
        assert not dock.isFloating(), dock.objectName()
    area = window.dockWidgetArea(window.twins_dock)
    assert area == Qt.DockWidgetArea.RightDockWidgetArea


def test_welcome_page_opens_a_demo_case_and_lists_saved_cases(show_window, qtbot):
    window = show_window()
    assert window.centre.currentWidget() is window.welcome
    assert window.welcome.recent.count() == 0
    qtbot.mouseClick(window.welcome.demo_buttons["fh-patient"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.case is not None, timeout=20_000)
    assert window.centre.currentWidget() is window.overview
    case_id = window.session.case.id
    with qtbot.waitSignal(window.cases.saved, timeout=20_000):
        window.cases_save()  # File > Save case
    window.switch_case(None)  # back to the welcome page
    assert window.centre.currentWidget() is window.welcome
    qtbot.waitUntil(lambda: window.welcome.recent.count() == 1, timeout=10_000)
    item = window.welcome.recent.item(0)
    assert "familial" in item.text().lower()
    window.welcome.recent.itemActivated.emit(item)  # what a double-click or Enter does
    qtbot.waitUntil(
        lambda: window.session.case is not None and window.session.case.id == case_id,
        timeout=20_000,
    )


def test_the_active_tool_is_shown_and_esc_returns_to_the_crosshair(main_window, qtbot):
    view = main_window.axial
    before = _rgb(view)[28:42, 4:260].astype(int)
    main_window.tool_actions["roi"].trigger()
    assert main_window.scene.tool == "roi"
    qtbot.wait(50)
    badge = _rgb(view)[28:42, 4:260].astype(int)
    orange = (badge[..., 0] > 200) & (badge[..., 1] > 120) & (badge[..., 2] < 110)
    assert (
        orange.sum() > 30
        and orange.sum()
        > 3 * ((before[..., 0] > 200) & (before[..., 1] > 120) & (before[..., 2] < 110)).sum()
    ), "no tool badge under the view's title"
    # Esc anywhere in the window (here: the focus is on the 3D view) ends the tool
    main_window.activateWindow()
    qtbot.waitUntil(main_window.isActiveWindow)
    main_window.view3d.setFocus()
    qtbot.keyClick(main_window.view3d, Qt.Key.Key_Escape)
    assert main_window.scene.tool == "navigate"
    assert main_window.tool_actions["navigate"].isChecked()
    # and on a slice view, with the focus there
    main_window.tool_actions["ruler"].trigger()
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert main_window.scene.tool == "navigate"


def test_hover_reads_right_anterior_superior(main_window, qtbot):
    view = main_window.axial
    rect = view.image_rect()
    point = QPointF(rect.left() + rect.width() * 0.3, rect.center().y())  # the patient's right
    qtbot.mouseMove(view, point.toPoint())
    qtbot.waitUntil(lambda: main_window.cursor_info.text() != "")
    text = main_window.cursor_info.text()
    assert text.startswith("R ") and " / " in text, text


def test_overlay_text_is_outlined_so_white_text_shows_on_white(qapp):
    image = QImage(120, 40, QImage.Format.Format_RGB888)
    image.fill(QColor(255, 255, 255))
    painter = QPainter(image)
    font = painter.font()
    font.setPointSize(16)
    font.setBold(True)
    painter.setFont(font)
    box = outlined_text(painter, QPointF(10, 30), "R A", QColor(235, 235, 235))
    painter.end()
    gray = _rgb_image(image).mean(axis=2)
    assert (gray < 60).sum() > 40, "white text on a white image has no dark outline"
    assert box.width() > 20 and box.height() > 10


def test_3d_header_is_whole_at_1280_by_800(show_window, qtbot, demo_patient):
    window = show_window(1280, 800)
    with qtbot.waitSignal(window.ready, timeout=120_000):
        window.open_demo()
    assert window.width() <= 1280, "the window is wider than a 1280-pixel screen"
    status = window.view3d.status
    assert status.text().endswith("structures")
    qtbot.waitUntil(lambda: status.isVisible())
    shown = status.fontMetrics().elidedText(
        status.text(), Qt.TextElideMode.ElideRight, status.width()
    )
    assert shown == status.text(), f"3D header cut: {shown!r}"
    # the standard views are still one click away, folded into a menu when narrow
    folded = window.view3d.views_button.isVisible()
    assert folded or all(b.isVisible() for b in window.view3d._view_buttons)
    window.set_layout("1 x 3")
    qtbot.wait(50)
    letters = []
    for view in window.slice_views():
        right = view.mapTo(window, view.rect().topRight()).x()
        left = view.mapTo(window, view.rect().topLeft()).x()
        letters.append((left, right))
    for (_, right), (left, _) in itertools.pairwise(letters):
        assert left - right >= 0  # panes do not overlap


def test_a_saved_case_opened_from_the_library_shows_its_surfaces(show_window, qtbot, demo_patient):
    first = show_window()
    with qtbot.waitSignal(first.ready, timeout=120_000):
        first.open_demo()
    case_id = first.session.case.id
    first.close()
    window = show_window()
    window.open_case(case_id)
    qtbot.waitUntil(lambda: window.view3d.mode == "surfaces", timeout=120_000)
    qtbot.waitUntil(lambda: window.view3d.status.text() != "0 structures", timeout=60_000)
    count = int(window.view3d.status.text().split()[0])
    assert count >= 10, window.view3d.status.text()
