"""The main window on the demo patient: four views with real content, linked crosshair."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage

pytestmark = pytest.mark.gui


def _pixels(image: QImage) -> np.ndarray:
    """A grabbed image as an (h, w, 3) uint8 array."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8, count=image.bytesPerLine() * height)
    rows = data.reshape(height, image.bytesPerLine())[:, : width * 3]
    return rows.reshape(height, width, 3).copy()  # the QImage's memory dies with it


def _grab(widget) -> np.ndarray:
    return _pixels(widget.grab().toImage())


def _interior(pixels: np.ndarray, margin: int = 30) -> np.ndarray:
    """Drop the title strip and text margins of a view."""
    return pixels[margin:-margin, margin:-margin]


def test_slice_views_show_the_ct_with_air_soft_tissue_and_bone(main_window):
    main_window.scene.set_overlay_visible(False)
    for view in (main_window.axial, main_window.coronal, main_window.sagittal):
        gray = _interior(_grab(view)).mean(axis=2)
        assert gray.std() > 20, f"{view.objectName()} looks blank"
        # with W400/L40: air is black, fat dark grey, soft tissue mid grey, bone white
        assert (gray < 10).mean() > 0.05, view.objectName()
        assert ((gray > 80) & (gray < 200)).mean() > 0.05, view.objectName()
        assert (gray > 245).mean() > 0.001, view.objectName()


def test_label_overlay_tints_the_organs(main_window):
    def tinted() -> float:  # e.g. the liver drawn in its brown-orange
        rgb = _interior(_grab(main_window.axial)).astype(int)
        return float(((rgb[..., 0] - rgb[..., 2]) > 40).mean())

    with_overlay = tinted()
    main_window.scene.set_overlay_visible(False)
    without = tinted()  # greyscale; only the yellow crosshair remains coloured
    assert with_overlay > 0.05
    assert without < with_overlay / 5


def test_3d_view_shows_the_labelled_surfaces_in_their_colours(main_window):
    rgb = _grab(main_window.view3d.plotter).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    assert rgb.std() > 20, "3D view looks blank"
    red = (r > 140) & (g < 110) & (b < 100)  # aorta / heart
    blue = (b > 120) & (r < 80) & (g > 60)  # inferior vena cava / hepatic veins
    assert red.sum() > 200, "no red (aorta) surface on screen"
    assert blue.sum() > 100, "no blue (vena cava) surface on screen"
    assert main_window.view3d.mode == "surfaces"


def test_orientation_letters_and_scale_are_drawn(main_window):
    view = main_window.axial
    assert view._letters == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    pixels = _grab(view).mean(axis=2)
    h, w = pixels.shape
    # letters are white text at mid-edges, over a black background
    assert (pixels[h // 2 - 15 : h // 2 + 15, 0:30] > 200).any(), "no letter at the left edge"
    assert (pixels[h // 2 - 15 : h // 2 + 15, w - 30 :] > 200).any(), "no letter at the right edge"


def test_click_moves_the_linked_crosshair(main_window, qtbot):
    axial, coronal, sagittal = main_window.axial, main_window.coronal, main_window.sagittal
    before = (coronal.plane().index, sagittal.plane().index)
    rect = axial.image_rect()
    target = QPointF(rect.left() + rect.width() * 0.3, rect.top() + rect.height() * 0.4)
    qtbot.mouseClick(axial, Qt.MouseButton.LeftButton, pos=target.toPoint())
    cursor = main_window.scene.cursor
    assert np.allclose(axial.lps_to_widget(cursor).x(), target.x(), atol=3)
    after = (coronal.plane().index, sagittal.plane().index)
    assert after[0] != before[0] and after[1] != before[1]


def test_wheel_steps_one_slice(main_window, qtbot):
    axial = main_window.axial
    start = axial.plane().index
    axial.step_slice(+1)
    assert axial.plane().index == start + 1
    axial.step_slice(-3)
    assert axial.plane().index == start - 2


def test_window_preset_changes_the_image(main_window, shot):
    before = _interior(_grab(main_window.axial)).mean()
    main_window.apply_window_preset("CT lung")
    shot(main_window, "window-preset-ct-lung")
    after = _interior(_grab(main_window.axial)).mean()
    assert main_window.scene.window == (-600, 1500)
    main_window.apply_window_preset("From image")  # presets are remembered per modality
    assert after > before + 10  # lung window lifts fat and air off black


def test_hover_reports_position_value_and_label(main_window, qtbot):
    axial = main_window.axial
    liver_lps = np.array([-70.0, 0.0, -40.0])
    main_window.scene.set_cursor(liver_lps)
    point = axial.lps_to_widget(main_window.scene.cursor)
    qtbot.mouseMove(axial, QPoint(int(point.x()), int(point.y())))
    qtbot.waitUntil(lambda: "liver" in main_window.cursor_info.text(), timeout=3000)
    assert "HU" in main_window.cursor_info.text()
