"""Label surfaces: closed, in patient coordinates, with the label's volume; STL/VTP export."""

import numpy as np
import pytest
import pyvista as pv

from meditwin_desktop.core.imaging.geometry import affine_from
from meditwin_desktop.core.imaging.surfaces import label_surfaces
from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume


def _sphere_labels(radius_mm=20.0, spacing=(0.8, 0.8, 1.0), direction=None):
    direction = np.eye(3) if direction is None else direction
    affine = affine_from([-30.0, 10.0, 50.0], direction, spacing)
    shape = (60, 70, 70)
    volume = Volume(np.zeros(shape, np.uint8), affine)
    k, j, i = np.meshgrid(*map(np.arange, shape), indexing="ij")
    lps = np.stack([i, j, k], -1) @ affine[:3, :3].T + affine[:3, 3]
    center = volume.center_lps()
    volume.array[np.linalg.norm(lps - center, axis=-1) <= radius_mm] = 1
    return LabelMap(volume, {1: Label(1, "ball", (200, 50, 50))}), center


@pytest.mark.parametrize("direction", [None, np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0.0]])])
def test_sphere_surface_is_closed_centred_and_has_the_right_volume(direction):
    labels, center = _sphere_labels(direction=direction)
    [surface] = label_surfaces(labels).values()
    analytic = 4 / 3 * np.pi * 20.0**3
    assert surface.n_open_edges == 0  # watertight: fit for 3D printing
    assert abs(surface.volume) == pytest.approx(analytic, rel=0.03)  # smoothing shrinks <3 %
    assert np.allclose(surface.center, center, atol=0.5)  # placed in LPS by the affine


def test_display_cap_keeps_the_shape(tmp_path):
    labels, _ = _sphere_labels(radius_mm=12.0, spacing=(0.5, 0.5, 0.5))
    full = label_surfaces(labels)[1]
    capped = label_surfaces(labels, max_triangles=full.n_cells // 4)[1]
    assert capped.n_cells < full.n_cells / 2
    # display only: smoothing a twice-coarser grid shrinks the shape a little more
    assert abs(capped.volume) == pytest.approx(abs(full.volume), rel=0.06)
    assert capped.n_open_edges == 0


def test_a_label_cut_by_the_image_border_still_gives_a_closed_surface():
    labels, _ = _sphere_labels(radius_mm=30.0)  # wider than the 56 mm image
    [surface] = label_surfaces(labels).values()
    assert surface.n_open_edges == 0


@pytest.mark.parametrize("suffix", [".stl", ".vtp"])
def test_export_reads_back(tmp_path, suffix):
    labels, _ = _sphere_labels()
    surface = label_surfaces(labels)[1]
    surface.save(tmp_path / f"ball{suffix}")
    back = pv.read(tmp_path / f"ball{suffix}")
    assert back.n_cells == surface.n_cells
    assert abs(back.volume) == pytest.approx(abs(surface.volume), rel=1e-4)
