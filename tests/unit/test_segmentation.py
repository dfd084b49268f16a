"""Segmentation tools, editor with undo, brush, statistics: on shapes with known answers,
and on the demo patient whose ground truth is known."""

from __future__ import annotations

import numpy as np
import pytest

from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.imaging.geometry import affine_from
from meditwin_desktop.core.imaging.slicing import AXIAL, slice_through
from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume
from meditwin_desktop.core.segmentation import tools
from meditwin_desktop.core.segmentation.brush import brush_voxels
from meditwin_desktop.core.segmentation.editor import LabelEditor
from meditwin_desktop.core.segmentation.statistics import label_statistics


def _ball(shape=(40, 40, 40), center=(20, 20, 20), radius=10.0) -> np.ndarray:
    k, j, i = np.ogrid[: shape[0], : shape[1], : shape[2]]
    return (k - center[0]) ** 2 + (j - center[1]) ** 2 + (i - center[2]) ** 2 <= radius**2


def test_region_grow_stops_at_the_range_and_follows_connectivity():
    image = np.zeros((20, 20, 20), np.int16)
    image[2:8, 2:8, 2:8] = 100  # cube A
    image[12:18, 12:18, 12:18] = 100  # cube B, same values, not connected
    grown = tools.region_grow(image, (4, 4, 4), 50, 150)
    assert grown.sum() == 6**3 and not grown[14, 14, 14]


def test_region_grow_refuses_a_seed_outside_the_range():
    with pytest.raises(InputError, match="outside the range"):
        tools.region_grow(np.zeros((4, 4, 4)), (1, 1, 1), 10, 20)


def test_fill_holes_fills_an_enclosed_cavity_only():
    shell = _ball(radius=10) & ~_ball(radius=6)
    open_cup = shell.copy()
    open_cup[20:, 18:22, 18:22] = False  # a channel from the cavity to the outside
    assert tools.fill_holes(shell).sum() == _ball(radius=10).sum()
    assert tools.fill_holes(open_cup).sum() == open_cup.sum()


def test_opening_cuts_a_thin_bridge_and_closing_bridges_a_gap():
    spacing = np.array([1.0, 1.0, 1.0])
    two = _ball(center=(20, 10, 20), radius=6) | _ball(center=(20, 30, 20), radius=6)
    bridged = two.copy()
    bridged[20, 10:30, 20] = True  # a one-voxel bridge
    opened = tools.opening(bridged, 1.5, spacing)
    assert not opened[20, 20, 20] and opened[20, 10, 20]
    gap = _ball(radius=8)
    gap[:, 19:21, :] = False  # a 2-voxel gap through the middle
    assert tools.closing(gap, 2.0, spacing)[20, 20, 20]


def test_largest_component_and_dice():
    small, big = _ball(center=(5, 5, 5), radius=3), _ball(center=(25, 25, 25), radius=8)
    assert np.array_equal(tools.largest_component(small | big), big)
    assert tools.dice(big, big) == 1.0 and tools.dice(big, small) == 0.0


def test_editor_paints_erases_and_undoes():
    image = Volume(np.zeros((10, 10, 10), np.int16), affine_from([0, 0, 0], np.eye(3), [1, 1, 1]))
    editor = LabelEditor.empty_for(image)
    liver = editor.add_label("liver").value
    tumour = editor.add_label("tumour").value
    block = np.zeros((10, 10, 10), bool)
    block[2:6, 2:6, 2:6] = True
    assert editor.paint(block, liver) == 64
    small = np.zeros_like(block)
    small[3:5, 3:5, 3:5] = True
    assert editor.paint(small, tumour) == 0  # only unlabelled voxels by default
    assert editor.paint(small, tumour, overwrite=True) == 8
    assert editor.erase(block, liver) == 56
    assert editor.undo() == "erase" and (editor.array == liver).sum() == 56
    assert editor.undo() and (editor.array == tumour).sum() == 0
    assert editor.redo() and (editor.array == tumour).sum() == 8
    with pytest.raises(InputError, match="already a label"):
        editor.add_label("Liver")


def test_replace_makes_a_label_exactly_a_mask_and_undoes():
    editor = LabelEditor.empty_for(Volume(np.zeros((40, 40, 40), np.int16), np.eye(4)))
    organ, lesion = editor.add_label("organ").value, editor.add_label("lesion").value
    shell = _ball(radius=10) & ~_ball(radius=4)
    editor.paint(shell, organ)
    editor.paint(_ball(radius=2), lesion)  # inside the cavity
    editor.replace(organ, tools.fill_holes(editor.array == organ), "fill holes")
    assert (editor.array == lesion).sum() == _ball(radius=2).sum()  # not taken by default
    assert (editor.array == organ).sum() == _ball(radius=10).sum() - _ball(radius=2).sum()
    editor.undo()
    assert np.array_equal(editor.array == organ, shell)
    editor.replace(organ, _ball(radius=10), "fill", overwrite=True)
    assert (editor.array == lesion).sum() == 0
    sparse = np.zeros_like(shell)
    sparse[20, 20, 30] = True  # a single voxel: stored as flat indices, not a box
    editor.replace(organ, sparse, "keep one voxel")
    assert (editor.array == organ).sum() == 1
    editor.undo()
    assert (editor.array == organ).sum() == _ball(radius=10).sum()


def test_a_brush_stroke_undoes_as_one_step():
    editor = LabelEditor.empty_for(Volume(np.zeros((5, 20, 20)), np.eye(4)))
    value = editor.add_label("scar").value
    editor.begin_stroke("paint")
    for i in range(5):
        editor.paint_at((np.array([2]), np.array([10]), np.array([i])), value)
    editor.end_stroke()
    assert (editor.array == value).sum() == 5
    editor.undo()
    assert (editor.array == value).sum() == 0


def test_brush_covers_a_disc_of_the_right_area():
    volume = Volume(
        np.zeros((10, 100, 100), np.int16), affine_from([0, 0, 0], np.eye(3), [0.5, 0.5, 2.0])
    )
    plane = slice_through(volume, AXIAL, volume.center_lps())
    index = brush_voxels(volume, plane, volume.center_lps(), radius_mm=5.0)
    area_mm2 = len(index[0]) * 0.25
    assert area_mm2 == pytest.approx(np.pi * 25, rel=0.05)
    assert set(index[0].tolist()) == {plane.index}  # one slice only


def test_statistics_of_a_known_block():
    image = Volume(
        np.full((10, 10, 10), 50, np.int16), affine_from([0, 0, 0], np.eye(3), [2, 2, 2])
    )
    image.array[:5] = 150
    labels = np.zeros((10, 10, 10), np.uint8)
    labels[3:7, :, :] = 1  # half at 150, half at 50
    [stats] = label_statistics(
        LabelMap(Volume(labels, image.affine), {1: Label(1, "x", (1, 1, 1))}), image
    )
    assert stats.voxels == 400 and stats.volume_ml == pytest.approx(3.2)
    assert stats.mean == pytest.approx(100) and stats.std == pytest.approx(50)


def test_liver_grows_from_a_seed_with_dice_above_095(demo_truth):
    """Ground truth: the demo's liver label. Range 75-130 HU around liver parenchyma."""
    ct, truth = demo_truth
    seed = tools.seed_index(ct, np.array([-70.0, 0.0, -40.0]))
    grown = tools.fill_holes(tools.largest_component(tools.region_grow(ct.array, seed, 75, 130)))
    assert tools.dice(grown, truth.mask("liver")) >= 0.95


def test_bone_threshold_at_a_vertebra_recovers_the_spine(demo_truth):
    ct, truth = demo_truth
    seed = tools.seed_index(ct, np.array([0.0, 70.0, -56.0]))  # a lumbar vertebral body
    spine = tools.component_at(tools.threshold(ct.array, 200, 3071), seed)
    assert tools.dice(spine, truth.mask("spine")) >= 0.95
