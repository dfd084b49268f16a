"""Level of detail in the 3D view on the demo patient: the still view draws every structure
within the triangle budget and looks like the full-detail surfaces; a mouse drag draws the
lighter copies (within a quarter of the budget) and full detail returns when it ends.

Set MEDITWIN_SHOTS=DIR to keep the still, full-detail and moving pictures.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from meditwin_desktop.core.imaging.surfaces import interaction_surface, label_surfaces

pytestmark = pytest.mark.gui


def _picture(view3d) -> np.ndarray:
    """The 3D view's last frame as an (h, w, 3) array, read back from VTK."""
    return np.asarray(view3d.plotter.screenshot(return_img=True), float)


def _wait_frame(view3d, qtbot) -> None:
    # ~900 k triangles in software OpenGL: seconds; a wait, not an assertion of speed.
    # (The two CI timeouts were a hidden 3D view, from a layout an earlier test had left
    # in the settings: see conftest._fresh_settings.)
    qtbot.waitUntil(lambda: not view3d._awaiting_frame, timeout=60_000)


def _shown(view3d) -> dict[str, bool]:
    """Which actors are drawn: each surface and each lighter copy, by actor name."""
    drawn = {name: bool(actor.GetVisibility()) for name, actor in view3d._content.items()}
    drawn |= {f"{n}-lighter": bool(a.GetVisibility()) for n, a in view3d._lighter.items()}
    return drawn


def test_still_view_draws_every_structure_within_the_budget(main_window):
    view3d = main_window.view3d
    surfaces = main_window._surfaces
    assert view3d.mode == "surfaces" and view3d.detail == "full"
    assert set(view3d._content) == {f"label-{v}" for v in surfaces}
    assert len(surfaces) >= 15
    drawn = _shown(view3d)
    assert all(drawn[f"label-{v}"] for v in surfaces)
    assert not any(drawn[f"label-{v}-lighter"] for v in surfaces if f"label-{v}" in view3d._lighter)
    budget = view3d.triangle_budget()
    assert view3d.triangles_drawn() == sum(m.n_cells for m in surfaces.values())
    assert view3d.triangles_drawn() <= budget
    # each surface brought its lighter copy from the background surface path
    lighter = {v: interaction_surface(m) for v, m in surfaces.items()}
    assert sum(m is not None for m in lighter.values()) >= len(surfaces) - 2
    assert all(m is None or m.n_cells < surfaces[v].n_cells for v, m in lighter.items())


def test_drag_draws_lighter_copies_and_full_detail_returns(main_window, qtbot, shot):
    view3d = main_window.view3d
    plotter = view3d.plotter
    still = view3d.triangles_drawn()
    center = plotter.rect().center()
    qtbot.mousePress(plotter, Qt.MouseButton.LeftButton, pos=center)
    for step in range(1, 6):
        qtbot.mouseMove(plotter, center + QPoint(12 * step, 3 * step))
    assert view3d.detail == "interaction"
    drawn = _shown(view3d)
    assert not any(drawn[name] for name in view3d._lighter)  # the surfaces gave way...
    assert all(drawn[f"{name}-lighter"] for name in view3d._lighter)  # ...to their copies
    moving = view3d.triangles_drawn()
    assert moving <= view3d.triangle_budget() // 4 * 1.05
    assert moving < still / 2
    assert not view3d.plotter.renderer.GetUseFXAA()
    shot(main_window, "3d-lod-moving")
    camera = np.array(plotter.camera.position)
    qtbot.mouseRelease(plotter, Qt.MouseButton.LeftButton, pos=center + QPoint(60, 15))
    assert not np.allclose(camera, (0, 0, 0))
    qtbot.waitUntil(lambda: view3d.detail == "full", timeout=5_000)
    drawn = _shown(view3d)
    assert all(drawn[name] for name in view3d._content)
    assert not any(drawn[f"{name}-lighter"] for name in view3d._lighter)
    assert view3d.triangles_drawn() == still
    assert view3d.plotter.renderer.GetUseFXAA()
    shot(main_window, "3d-lod-still-again")


def test_budgeted_still_view_looks_like_full_detail(main_window, qtbot, shot):
    """The budgeted surfaces (150 k triangles in software OpenGL) against the surfaces at
    full detail (~900 k). The large ones come from a twice coarser label grid (the ribs
    look thinner), as with the per-surface cap before the budget (350 k triangles, mean
    difference 7.2 measured); the decimation on top of it adds nothing visible (7.1)."""
    view3d = main_window.view3d
    labels = main_window.scene.labels
    budgeted = dict(main_window._surfaces)
    view3d.show_surfaces(budgeted, labels.labels)
    _wait_frame(view3d, qtbot)
    qtbot.wait(200)
    picture = _picture(view3d)
    shot(main_window, "3d-budget-still")
    full = label_surfaces(labels, list(budgeted))
    assert sum(m.n_cells for m in full.values()) > 3 * view3d.triangles_drawn()
    view3d.show_surfaces(full, labels.labels)
    _wait_frame(view3d, qtbot)
    qtbot.wait(200)
    reference = _picture(view3d)
    shot(main_window, "3d-full-detail-still")
    difference = np.abs(picture - reference).max(axis=2)
    assert difference.mean() < 9.0  # of 255
    assert (difference > 60).mean() < 0.04  # clearly different pixels: rib edges
