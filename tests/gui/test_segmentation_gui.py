"""The segmentation panel and slice tools, driven like a user on the demo patient.

Ground truth is the demo's label map, read from its NIfTI file (not from the window).
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRectF, Qt

from meditwin_desktop.core.imaging.nifti import read_label_map
from meditwin_desktop.core.segmentation.tools import dice

pytestmark = pytest.mark.gui


def _wait_idle(window, qtbot) -> None:
    qtbot.waitUntil(lambda: not window.segments._busy, timeout=60_000)


def test_region_grow_and_cleanup_recover_the_liver(main_window, qtbot, demo_patient, shot):
    truth = read_label_map(demo_patient.labels_path)
    panel = main_window.segments
    main_window.scene.set_labels(None)  # segmenting from scratch
    main_window.scene.set_cursor(np.array([-70.0, 0.0, -40.0]))  # a point in the liver
    value = panel.add_label("my liver")
    panel.tools.setCurrentIndex(1)
    panel.grow_low.setValue(75)
    panel.grow_high.setValue(130)
    panel.grow_preview_button.click()  # a preview first, applied on confirmation
    _wait_idle(main_window, qtbot)
    assert (main_window.scene.labels.volume.array == value).sum() == 0
    panel.grow_button.click()
    _wait_idle(main_window, qtbot)
    shot(main_window, "seg-region-grow-liver")
    panel.cleanup_buttons["Keep largest part"].click()
    _wait_idle(main_window, qtbot)
    panel.cleanup_buttons["Fill holes"].click()
    _wait_idle(main_window, qtbot)
    grown = main_window.scene.labels.volume.array == value
    # fill holes takes the tumours and vessels inside the liver: compare with all of them
    inside = ("liver", "tumour 1", "tumour 2", "hepatic veins", "portal vein")
    liver_whole = np.isin(truth.volume.array, [truth.by_name(n).value for n in inside])
    shot(main_window, "seg-cleanup-fill-holes")
    assert dice(grown, truth.mask("liver")) >= 0.95
    assert dice(grown, liver_whole) >= 0.95
    expected_ml = grown.sum() * 1.5625**2 * 2 / 1000
    qtbot.waitUntil(  # the table's statistics follow the last edit
        lambda: (
            value in panel.statistics()
            and panel.statistics()[value].volume_ml == pytest.approx(expected_ml)
        ),
        timeout=30_000,
    )


def test_bone_threshold_at_the_spine_recovers_the_spine(main_window, qtbot, demo_patient, shot):
    truth = read_label_map(demo_patient.labels_path)
    panel = main_window.segments
    main_window.scene.set_labels(None)  # segmenting from scratch
    main_window.scene.set_cursor(np.array([0.0, 70.0, -56.0]))  # a lumbar vertebral body
    value = panel.add_label("bone")
    panel.tools.setCurrentIndex(0)
    panel.threshold_low.setValue(200)
    panel.threshold_high.setValue(3071)
    assert main_window.scene.preview_range == (200, 3071)  # live preview on the slices
    shot(main_window, "seg-threshold-preview-bone")
    panel.threshold_connected.setChecked(True)
    panel.threshold_apply.click()
    _wait_idle(main_window, qtbot)
    spine = main_window.scene.labels.volume.array == value
    shot(main_window, "seg-threshold-spine")
    assert dice(spine, truth.mask("spine")) >= 0.95


def test_threshold_preview_colours_the_slices(main_window):
    axial = main_window.axial
    before = axial.grab().toImage()
    main_window.segments.tools.setCurrentIndex(0)
    main_window.segments.threshold_low.setValue(60)
    main_window.segments.threshold_high.setValue(150)
    after = axial.grab().toImage()
    green = sum(
        1
        for x in range(0, after.width(), 4)
        for y in range(0, after.height(), 4)
        if after.pixelColor(x, y).green() > after.pixelColor(x, y).red() + 40
    )
    assert green > 500 and before != after


def test_brush_paints_on_a_slice_and_undo_redo_restore(main_window, qtbot, shot):
    panel, scene, axial = main_window.segments, main_window.scene, main_window.axial
    scene.set_labels(None)  # segmenting from scratch (by default only unlabelled voxels)
    value = panel.add_label("scar")
    panel.tools.setCurrentIndex(2)
    panel.brush_radius.setValue(4.0)
    qtbot.mouseClick(
        panel.findChild(type(panel.undo_button), "brush_paint"), Qt.MouseButton.LeftButton
    )
    assert scene.tool == "paint"
    rect = axial.image_rect()
    start = QPoint(int(rect.center().x()), int(rect.center().y()))
    qtbot.mousePress(axial, Qt.MouseButton.LeftButton, pos=start)
    for dx in range(0, 60, 6):
        qtbot.mouseMove(axial, start + QPoint(dx, 0))
    qtbot.mouseRelease(axial, Qt.MouseButton.LeftButton, pos=start + QPoint(54, 0))
    painted = int((scene.labels.volume.array == value).sum())
    shot(main_window, "seg-brush-stroke")
    assert painted > 50
    assert len(set(np.nonzero(scene.labels.volume.array == value)[0])) == 1  # one slice
    panel.undo()
    assert (scene.labels.volume.array == value).sum() == 0
    panel.redo()
    assert (scene.labels.volume.array == value).sum() == painted


def test_ruler_measures_a_known_distance(main_window, qtbot, shot):
    scene, axial = main_window.scene, main_window.axial
    scene.set_tool("ruler")
    a = np.array(scene.cursor)
    b = a + np.array([40.0, 0.0, 0.0])  # 40 mm to the left
    start, end = axial.lps_to_widget(a), axial.lps_to_widget(b)
    qtbot.mousePress(axial, Qt.MouseButton.LeftButton, pos=start.toPoint())
    qtbot.mouseMove(axial, end.toPoint())
    qtbot.mouseRelease(axial, Qt.MouseButton.LeftButton, pos=end.toPoint())
    [ruler] = scene.rulers
    shot(main_window, "measure-ruler-on-slice")
    pixel_mm = axial.plane().pixel_size[0] / (
        axial.image_rect().width() / axial.plane().pixels.shape[1]
    )
    assert ruler.length_mm == pytest.approx(40.0, abs=2 * pixel_mm + 1e-6)


def test_roi_statistics_of_the_lung(main_window):
    scene, axial = main_window.scene, main_window.axial
    scene.set_cursor(np.array([-78.0, 18.0, 95.0]))  # inside the right lung
    center = axial.lps_to_widget(scene.cursor)
    stats = axial.roi_statistics(QRectF(center.x() - 15, center.y() - 15, 30, 30))
    assert -900 < stats["mean"] < -800  # lung parenchyma, about -860 HU
    assert stats["pixels"] > 20


def test_layout_choice_persists(main_window, qtbot):
    from meditwin_desktop.ui.main_window import MainWindow, settings

    main_window.set_layout("1 x 3")
    assert not main_window.view3d.isVisible() and main_window.sagittal.isVisible()
    assert settings().value("layout") == "1 x 3"
    other = MainWindow()
    qtbot.addWidget(other)
    assert other.layout_name == "1 x 3"
    other.close()  # it saves its layout when it closes: before the default is restored
    main_window.set_layout("2 x 2")


def test_nifti_label_round_trip_is_lossless(main_window, qtbot, tmp_path):
    panel = main_window.segments
    original = main_window.scene.labels.volume.array.copy()
    names = {v: lab.name for v, lab in main_window.scene.labels.labels.items()}
    panel.export_labels(tmp_path / "labels.nii.gz", "nifti")
    qtbot.waitUntil(lambda: (tmp_path / "labels.nii.gz").exists(), timeout=30_000)
    main_window.scene.set_labels(None)
    panel.import_labels(tmp_path / "labels.nii.gz")
    qtbot.waitUntil(lambda: main_window.scene.labels is not None, timeout=30_000)
    assert np.array_equal(main_window.scene.labels.volume.array, original)
    assert {v: lab.name for v, lab in main_window.scene.labels.labels.items()} == names
    assert set(main_window._surfaces) <= set(names) and main_window._surfaces  # 3D follows


def _click_in_3d(view3d, qtbot, lps: np.ndarray) -> None:
    """A real left click on the 3D widget where the LPS point `lps` is drawn."""
    renderer = view3d.plotter.renderer
    renderer.SetWorldPoint(*lps, 1.0)
    renderer.WorldToDisplay()
    x, y, _ = renderer.GetDisplayPoint()  # render-window pixels, origin bottom left
    ratio = view3d.plotter.devicePixelRatioF()
    height = view3d.plotter.ren_win.GetSize()[1]
    position = QPoint(round(x / ratio), round((height - y) / ratio))
    qtbot.mouseClick(view3d.plotter, Qt.MouseButton.LeftButton, pos=position)


def _wait_frame(view3d, qtbot) -> None:
    qtbot.waitUntil(lambda: view3d._frames > 0 and not view3d._awaiting_frame, timeout=10_000)


def _first_hit(camera: np.ndarray, through: np.ndarray, center: np.ndarray, radius: float):
    """Where the ray from `camera` through `through` first meets a sphere (analytic)."""
    direction = (through - camera) / np.linalg.norm(through - camera)
    offset = camera - center
    b = direction @ offset
    t = -b - np.sqrt(b * b - (offset @ offset - radius**2))
    return camera + t * direction


def test_two_clicks_on_3d_surfaces_make_a_ruler(main_window, qtbot, shot):
    """Picking through VTK, not a simulated signal: two spheres of radius 20 mm, centres
    80 mm apart, seen from the front (A view). A click must pick where the camera's ray
    through the clicked point first meets the sphere, computed here analytically
    (perspective puts it off the front pole). Tolerance 1 mm: one pixel (~0.3 mm here)
    of click rounding plus the triangulation (60 x 60 facets: < 0.1 mm)."""
    import pyvista as pv

    from meditwin_desktop.core.imaging.volume import Label

    main_window.set_layout("2 x 2")  # a hidden 3D view draws no frame
    view3d = main_window.view3d
    centers = {1: np.array([-40.0, 0.0, 0.0]), 2: np.array([40.0, 0.0, 0.0])}
    spheres = {
        n: pv.Sphere(radius=20, center=c, theta_resolution=60, phi_resolution=60).compute_normals()
        for n, c in centers.items()
    }
    labels = {1: Label(1, "left ball", (200, 80, 80)), 2: Label(2, "right ball", (80, 80, 200))}
    # a small ball far in front, off both rays, deepens the content's bounds, so the
    # crosshair lines run from 85 mm in front of the big balls
    spheres[3] = pv.Sphere(radius=5, center=(0, -80, 60)).compute_normals()
    labels[3] = Label(3, "marker", (80, 200, 80))
    view3d.show_surfaces(spheres, labels)
    _wait_frame(view3d, qtbot)
    camera = np.array(view3d.plotter.camera.position)
    assert camera[1] < -100  # in front of the patient (LPS: anterior is -y)
    # the crosshair runs through the left ball's centre; its front-to-back line starts at
    # the content's front, `front`. The first click is right over that end and must pick
    # the ball behind it. (In the demo such a line caught a click in mid-air, 44 mm in
    # front of the anatomy: the overlays are not pickable.)
    main_window.scene.set_cursor(centers[1])
    _wait_frame(view3d, qtbot)
    assert not view3d.plotter.actors["cursor"].GetPickable()
    front = np.array([centers[1][0], view3d._bounds[2], centers[1][2]])
    assert front[1] < -80
    view3d.measure_button.setChecked(True)
    _click_in_3d(view3d, qtbot, front)
    assert "second point" in main_window.message.text()
    _click_in_3d(view3d, qtbot, centers[2])
    [ruler] = main_window.scene.rulers
    expected = [
        _first_hit(camera, front, centers[1], 20.0),
        _first_hit(camera, centers[2], centers[2], 20.0),
    ]
    assert np.allclose(ruler.start, expected[0], atol=1.0)
    assert np.allclose(ruler.end, expected[1], atol=1.0)
    assert ruler.length_mm == pytest.approx(np.linalg.norm(expected[1] - expected[0]), abs=1.0)
    assert f"{ruler.length_mm:.1f} mm" in main_window.message.text()
    shot(main_window, "measure-ruler-in-3d")
    view3d.measure_button.setChecked(False)
