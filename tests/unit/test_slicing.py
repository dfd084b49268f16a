"""Anatomical slicing: radiological display convention, flipped and oblique volumes."""

import numpy as np
import pytest

from meditwin_desktop.core.imaging.geometry import affine_from
from meditwin_desktop.core.imaging.slicing import (
    AXIAL,
    CORONAL,
    SAGITTAL,
    is_axis_aligned,
    slice_through,
)
from meditwin_desktop.core.imaging.volume import Volume


def _linear_volume(direction, shape=(20, 24, 28), spacing=(1.0, 1.5, 2.0)):
    """A volume whose voxel value is a known linear function of its LPS position."""
    affine = affine_from([-10.0, 5.0, 20.0], direction, spacing)
    nk, nj, ni = shape
    k, j, i = np.meshgrid(np.arange(nk), np.arange(nj), np.arange(ni), indexing="ij")
    lps = np.stack([i, j, k], -1) @ affine[:3, :3].T + affine[:3, 3]
    values = (lps @ np.array([1.0, 10.0, 100.0])).astype(np.float32)
    return Volume(values, affine)


def _f(lps):
    return lps @ np.array([1.0, 10.0, 100.0])


def test_edge_letters_are_radiological():
    assert AXIAL.edge_letters() == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    assert CORONAL.edge_letters() == {"left": "R", "right": "L", "top": "S", "bottom": "I"}
    assert SAGITTAL.edge_letters() == {"left": "A", "right": "P", "top": "S", "bottom": "I"}


@pytest.mark.parametrize(
    "direction",
    [
        np.eye(3),
        np.diag([-1.0, 1.0, -1.0]),
        np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0.0]]),
        np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0.0]]),
    ],
    ids=["identity", "flipped-x-z", "permuted (sagittal acquisition)", "coronal acquisition"],
)
@pytest.mark.parametrize("orientation", [AXIAL, CORONAL, SAGITTAL], ids=lambda o: o.name)
def test_indexed_slices_put_anatomy_where_the_convention_says(direction, orientation):
    volume = _linear_volume(direction)
    assert is_axis_aligned(volume)
    plane = slice_through(volume, orientation, volume.center_lps())
    rows, cols = plane.pixels.shape
    # every pixel holds the value of the LPS point the plane says it shows
    for row, col in [(0, 0), (rows - 1, cols - 1), (rows // 2, cols // 3)]:
        assert plane.pixels[row, col] == pytest.approx(_f(plane.to_lps(col, row)), abs=1e-3)
    # screen right and down are the orientation's anatomical directions
    assert np.allclose(plane.col_step / np.linalg.norm(plane.col_step), orientation.right)
    assert np.allclose(plane.row_step / np.linalg.norm(plane.row_step), orientation.down)


def test_oblique_volume_is_resampled_onto_the_anatomical_plane():
    angle = np.radians(20)
    rotation = np.array(
        [[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]]
    )
    volume = _linear_volume(rotation, spacing=(1.0, 1.0, 1.0))
    assert not is_axis_aligned(volume)
    plane = slice_through(volume, AXIAL, volume.center_lps())
    assert np.allclose(plane.col_step, [1, 0, 0]) and np.allclose(plane.row_step, [0, 1, 0])
    rows, cols = plane.pixels.shape
    inside = 0
    for row in range(0, rows, 3):
        for col in range(0, cols, 3):
            lps = plane.to_lps(col, row)
            ijk = volume.lps_to_index(lps)
            if np.all(ijk >= 0) and np.all(ijk <= np.array(volume.shape[::-1]) - 1):
                inside += 1  # linear interpolation of a linear function is exact
                assert plane.pixels[row, col] == pytest.approx(_f(lps), abs=1e-2)
    assert inside > 50


def test_from_lps_inverts_to_lps():
    volume = _linear_volume(np.eye(3))
    plane = slice_through(volume, SAGITTAL, volume.center_lps())
    col, row = plane.from_lps(plane.to_lps(3.25, 7.5))
    assert (col, row) == pytest.approx((3.25, 7.5))


def test_point_outside_is_clamped_to_the_last_slice():
    volume = _linear_volume(np.eye(3))
    plane = slice_through(volume, AXIAL, np.array([0.0, 0.0, 1e6]))
    assert plane.index == plane.count - 1
