"""Patient geometry: LPS/RAS conversion, direction letters, Volume index<->LPS mapping."""

import numpy as np
import pytest

from meditwin_desktop.core.imaging.geometry import (
    affine_from,
    direction_letter,
    lps_affine_to_ras,
    ras_affine_to_lps,
)
from meditwin_desktop.core.imaging.volume import Volume


def _rotation(axis, degrees):
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    a = np.radians(degrees)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(a) * k + (1 - np.cos(a)) * k @ k


@pytest.mark.parametrize(
    ("vector", "letter"),
    [
        ((1, 0, 0), "L"),
        ((-1, 0, 0), "R"),
        ((0, 1, 0), "P"),
        ((0, -1, 0), "A"),
        ((0, 0, 1), "S"),
        ((0, 0, -1), "I"),
        ((0.8, -0.5, 0), "LA"),
    ],
)
def test_direction_letters_follow_lps(vector, letter):
    assert direction_letter(np.array(vector, float)) == letter


def test_ras_conversion_flips_x_and_y_and_round_trips():
    affine = affine_from([10, -20, 30], np.eye(3), [0.5, 0.6, 2.0])
    ras = lps_affine_to_ras(affine)
    assert np.allclose(ras[:3, 3], [-10, 20, 30])
    assert np.allclose(ras[:3, :3], np.diag([-0.5, -0.6, 2.0]))
    assert np.allclose(ras_affine_to_lps(ras), affine)


def test_volume_index_lps_round_trip_on_oblique_grid():
    direction = _rotation([1, 2, 3], 27)
    volume = Volume(np.zeros((4, 5, 6), np.int16), affine_from([1, 2, 3], direction, [0.7, 0.8, 3]))
    ijk = np.array([[0, 0, 0], [5, 4, 3], [2.5, 1.5, 0.5]])
    assert np.allclose(volume.lps_to_index(volume.index_to_lps(ijk)), ijk)
    assert np.allclose(volume.spacing, [0.7, 0.8, 3])
    assert np.allclose(volume.direction, direction)
    # moving one voxel along i moves 0.7 mm along the first direction cosine
    step = volume.index_to_lps([1, 0, 0]) - volume.index_to_lps([0, 0, 0])
    assert np.allclose(step, 0.7 * direction[:, 0])


def test_same_grid_detects_a_shift():
    a = Volume(np.zeros((3, 3, 3), np.int16), affine_from([0, 0, 0], np.eye(3), [1, 1, 1]))
    b = Volume(np.zeros((3, 3, 3), np.int16), affine_from([0, 0, 0.01], np.eye(3), [1, 1, 1]))
    assert a.same_grid(a)
    assert not a.same_grid(b)
