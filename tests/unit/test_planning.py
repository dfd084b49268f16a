"""Needle-path planning on a synthetic label map: crossings, entry search, margins."""

import numpy as np
import pytest

from meditwin_desktop.core import planning

NAMES = {1: "body", 2: "liver", 3: "tumour 1", 4: "rib cage", 5: "portal vein", 6: "right lung"}


def _phantom(rib: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """A 2 mm grid: a body box, a liver block with a tumour, a rib plate on the right side
    (-L) and a lung block above the liver; (0, 0, 0) is the centre voxel."""
    labels = np.zeros((61, 61, 61), np.uint8)  # [k, j, i]
    labels[5:56, 5:56, 5:56] = 1  # body: 100 mm cube
    labels[15:46, 15:46, 15:46] = 2  # liver
    k, j, i = np.indices(labels.shape)
    labels[(i - 30) ** 2 + (j - 30) ** 2 + (k - 30) ** 2 <= 16] = 3  # tumour, r = 8 mm
    if rib:
        labels[5:56, 5:56, 8:10] = 4  # a plate 4 mm thick near the right skin (low i)
    labels[46:52, 5:56, 5:56] = 6  # lung above the liver (high k = superior)
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[:3, 3] = -60.0
    return labels, affine


def test_path_crossings_name_the_structure_and_its_distance_from_the_entry():
    labels, affine = _phantom()
    entry = np.array([-55.0, 0.0, 0.0])  # inside the body, right of the rib plate
    crossings = planning.path_crossings(labels, affine, NAMES, entry, np.zeros(3))
    assert [c.name for c in crossings] == ["rib cage"]
    rib = crossings[0]
    # the plate spans i = 8..9, L = -44..-42 mm (voxel centres): 11 mm from the entry
    assert rib.start_mm == pytest.approx(10.0, abs=1.5)
    assert "rib cage 1" in rib.text() and "bone" in rib.text()


def test_path_crossings_see_vessels_inside_the_liver():
    labels, affine = _phantom(rib=False)
    labels[20:40, 30:32, 20:24] = 5  # a vein between the anterior skin and the tumour
    entry = np.array([-16.0, -55.0, 0.0])
    target = np.array([-16.0, 0.0, 0.0])
    kinds = [c.kind for c in planning.path_crossings(labels, affine, NAMES, entry, target)]
    assert "vessel" in kinds


def test_a_clear_path_crosses_nothing():
    labels, affine = _phantom()
    entry = np.array([0.0, -55.0, 0.0])  # straight from the front
    assert planning.path_crossings(labels, affine, NAMES, entry, np.zeros(3)) == []


def test_the_default_entry_avoids_bone_and_lung_and_lies_on_the_skin():
    labels, affine = _phantom()
    choice = planning.choose_entry(labels, affine, NAMES, np.zeros(3), directions=300)
    assert choice is not None
    assert choice.crossings == ()
    assert choice.direction[1] <= 0.5  # not from the back
    # on the skin: the body box ends at +-50 mm (voxel centres), give or take a voxel
    assert np.abs(choice.entry).max() == pytest.approx(50.0, abs=3.0)
    assert choice.liver_mm >= planning.LIVER_BEFORE_TUMOUR_MM
    assert "cross no bone" in choice.provenance()


def test_the_entry_search_prefers_a_clear_path_to_a_shorter_one_through_bone():
    labels, affine = _phantom()
    labels[labels == 3] = 2
    target = np.array([-34.0, 0.0, 0.0])  # 16 mm from the right skin, behind the rib plate
    short = planning.path_crossings(labels, affine, NAMES, np.array([-52.0, 0, 0]), target)
    assert [c.name for c in short] == ["rib cage"]
    choice = planning.choose_entry(labels, affine, NAMES, target, directions=400)
    assert choice is not None and choice.crossings == ()
    assert choice.depth_mm > 20.0  # longer than the 16 mm through the rib


def test_margin_field_measures_millimetres_on_anisotropic_voxels():
    mask = np.zeros((20, 40, 40), bool)
    mask[10, 20, 20] = True
    affine = np.diag([1.0, 1.0, 3.0, 1.0])
    field = planning.margin_field(mask, affine, reach_mm=10.0)
    inverse = np.linalg.inv(field.affine)
    at = np.rint(inverse[:3, :3] @ np.array([20.0, 20.0, 30.0]) + inverse[:3, 3]).astype(int)
    assert field.distance[at[2], at[1], at[0]] == 0.0
    assert field.distance[at[2] + 1, at[1], at[0]] == pytest.approx(3.0)  # one slice: 3 mm
    assert field.distance[at[2], at[1], at[0] + 5] == pytest.approx(5.0)
    assert field.distance.shape[0] < mask.shape[0]  # a box, not the whole grid


def test_target_label_is_the_tumour_at_or_nearest_the_target():
    labels, affine = _phantom()
    assert planning.target_label(labels, affine, NAMES, np.zeros(3)) == 3
    assert planning.target_label(labels, affine, NAMES, np.array([20.0, 0, 0])) == 3
    assert planning.target_label(labels, affine, {1: "body"}, np.zeros(3)) is None


@pytest.mark.parametrize(
    ("value", "state"),
    [
        (12.0, "green"),
        (10.0, "green"),
        (9.96, "green"),  # reads 10.0
        (7.0, "green"),  # meets the 5 mm target, as the comparison table says
        (4.96, "green"),  # reads 5.0
        (4.5, "amber"),
        (4.0, "amber"),
        (3.0, "red"),
        (-2.0, "red"),
        (None, "grey"),
    ],
)
def test_margin_traffic_light(value, state):
    assert planning.margin_state(value, 5.0, resolution=1.0).state == state


def test_section_contours_trace_a_sphere_where_the_slice_cuts_it():
    from meditwin_desktop.core.imaging.slicing import AXIAL, slice_through
    from meditwin_desktop.core.imaging.volume import Volume

    image = Volume(np.zeros((40, 100, 100), np.int16), np.diag([1.5, 1.5, 2.0, 1.0]))
    k, j, i = np.indices((41, 41, 41))
    ball = ((i - 20) ** 2 + (j - 20) ** 2 + (k - 20) ** 2 <= 100).astype(np.float32)  # r 10 mm
    affine = np.eye(4)
    affine[:3, 3] = (55.0, 65.0, 20.0)  # the ball's centre at L 75, P 85, S 40
    centre = np.array([75.0, 85.0, 40.0])
    plane = slice_through(image, AXIAL, centre)
    lines = planning.section_contours(ball, affine, plane, (0.5,), fill=0.0)[0.5]
    assert len(lines) == 1
    lps = np.array([plane.to_lps(c, r) for c, r in lines[0]])
    radius = np.linalg.norm(lps - centre, axis=1)
    assert radius.mean() == pytest.approx(10.0, abs=0.7)
    far = slice_through(image, AXIAL, centre + np.array([0, 0, 30.0]))  # above the ball
    assert planning.section_contours(ball, affine, far, (0.5,), fill=0.0)[0.5] == []
