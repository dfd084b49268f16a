"""The 3D view driven like a user on the demo patient: a label's surface with its volume,
volume-rendering presets, clipping at a slice, the standard view buttons.

Set MEDITWIN_SHOTS=DIR to keep a screenshot of each step.
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui


def _picture(view3d) -> np.ndarray:
    """The 3D view's last frame as an (h, w, 3) array, read back from VTK."""
    return np.asarray(view3d.plotter.screenshot(return_img=True), float)


def _coloured(image: np.ndarray) -> np.ndarray:
    """Pixels showing anatomy: the background gradient is nearly grey (spread < 15)."""
    return (image.max(axis=2) - image.min(axis=2)) > 40


def _anatomy(image: np.ndarray) -> float:
    """Share of the picture that shows anatomy."""
    return float(_coloured(image).mean())


def _wait_frame(view3d, qtbot) -> None:
    qtbot.waitUntil(lambda: not view3d._awaiting_frame, timeout=30_000)


def test_label_surface_shows_its_volume(main_window, qtbot, shot):
    main_window.set_layout("2 x 2")
    labels = main_window.scene.labels
    liver = labels.by_name("liver")
    main_window.show_label_surface(liver.value)
    qtbot.waitUntil(lambda: "encloses" in main_window.message.text(), timeout=60_000)
    voxel_ml = float((labels.volume.array == liver.value).sum()) * 1.5625**2 * 2 / 1000
    assert f"liver: {voxel_ml:.1f} mL" in main_window.message.text()
    # the smoothed surface encloses about the voxels' volume (SurfaceNets keeps the
    # boundary halfway between voxel centres; smoothing shrinks convex parts a little)
    enclosed = float(main_window.message.text().split("encloses ")[1].split(" mL")[0])
    assert enclosed == pytest.approx(voxel_ml, rel=0.03)
    shot(main_window, "3d-liver-surface")


def test_volume_rendering_presets_change_the_picture(main_window, qtbot, shot):
    main_window.set_layout("2 x 2")
    view3d = main_window.view3d
    try:
        main_window.set_render_mode("Volume: CT bone")
        _wait_frame(view3d, qtbot)
        assert view3d.mode == "volume"
        bone = _picture(view3d)
        shot(main_window, "3d-volume-ct-bone")
        main_window.set_render_mode("Volume: CT soft tissue")
        _wait_frame(view3d, qtbot)
        soft = _picture(view3d)
        shot(main_window, "3d-volume-ct-soft-tissue")
        # the bone preset shows the skeleton only; soft tissue also the body around it
        assert _anatomy(bone) > 0.02
        assert _anatomy(soft) > 2 * _anatomy(bone)
        assert np.median(bone[_coloured(bone)], axis=0)[0] > 150  # light, bone-coloured
    finally:  # the preset is remembered per modality: leave the default for later tests
        main_window.set_render_mode("Label surfaces")
        main_window.render_mode.setCurrentText("Label surfaces")


def test_clipping_at_the_axial_slice_cuts_the_3d_view(main_window, qtbot, shot):
    main_window.set_layout("2 x 2")
    view3d = main_window.view3d
    view3d.standard_view("A")
    _wait_frame(view3d, qtbot)
    whole = _picture(view3d)
    main_window.scene.set_cursor(np.array([-70.0, 0.0, -40.0]))  # through the liver
    try:
        main_window.clip_actions["axial"].setChecked(True)
        _wait_frame(view3d, qtbot)
        cut = _picture(view3d)
        main_window.planes_action.setChecked(True)
        _wait_frame(view3d, qtbot)
        shot(main_window, "3d-clipped-axial-with-slices")
    finally:  # "Slices in 3D" is remembered: leave it off for later tests
        main_window.clip_actions["axial"].setChecked(False)
        main_window.planes_action.setChecked(False)
    # seen from the front, everything above the axial slice is gone: the top third of
    # the picture (chest, ribs) is background where it showed anatomy before
    rows = whole.shape[0] // 3
    assert _anatomy(whole[:rows]) > 0.02
    assert _anatomy(cut[:rows]) < _anatomy(whole[:rows]) / 3


def test_standard_view_buttons_turn_the_camera(main_window, qtbot):
    view3d = main_window.view3d
    expected = {"A": (0, -1, 0), "P": (0, 1, 0), "L": (1, 0, 0), "S": (0, 0, 1)}
    for name, direction in expected.items():
        view3d.standard_view(name)
        camera = view3d.plotter.camera
        seen = np.array(camera.position) - np.array(camera.focal_point)
        assert np.allclose(seen / np.linalg.norm(seen), direction, atol=1e-6), name
