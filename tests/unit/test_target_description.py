"""The target described anatomically, on a synthetic volume whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume
from meditwin_desktop.core.target_description import describe_target, lps_text, segment_name

SPACING = 2.0  # mm, isotropic
N = 80  # voxels a side: LPS -80 .. +78 mm
BODY, LIVER, TUMOUR, IVC, RIB = 1, 2, 3, 4, 5


def _grid() -> tuple[np.ndarray, np.ndarray]:
    affine = np.diag([SPACING, SPACING, SPACING, 1.0])
    affine[:3, 3] = -80.0
    c = np.arange(N) * SPACING - 80.0
    z, y, x = np.meshgrid(c, c, c, indexing="ij")  # array [k, j, i]
    return affine, np.stack([x, y, z])


def _case(segments: bool = False) -> tuple[LabelMap, Volume]:
    affine, (x, y, z) = _grid()
    array = np.zeros((N, N, N), np.int16)
    array[x**2 + y**2 < 60.0**2] = BODY  # a cylinder of body, radius 60 mm along S
    array[(x > -50) & (x < 30) & (np.abs(y) < 30)] = LIVER
    array[(np.abs(x - 10) < 3) & (np.abs(y - 20) < 3)] = IVC  # the IVC at L 10
    array[(x**2 + y**2 > 52.0**2) & (x**2 + y**2 < 55.0**2) & (np.abs(z) < 6)] = RIB
    array[(x + 30) ** 2 + y**2 + z**2 < 10.0**2] = TUMOUR  # centre R 30, radius 10 mm
    names = {BODY: "body", LIVER: "liver", TUMOUR: "tumour 1", IVC: "inferior vena cava",
             RIB: "rib cage"}  # fmt: skip
    if segments:
        array[(array == LIVER) & (x < -10)] = 7
        names[7] = "Segment 7"
    labels = {v: Label(v, n, (200, 100, 100)) for v, n in names.items()}
    ct = np.where(array > 0, 50.0, -1000.0).astype(np.float32)
    return LabelMap(Volume(array, affine), labels), Volume(ct, affine)


def test_a_tumour_is_placed_in_its_organ_side_and_depth_along_the_path():
    labels, image = _case()
    # the path runs to the patient's right (-L) from the tumour's centre: skin at R 60
    described = describe_target(labels, (-30.0, 0.0, 0.0), (-70.0, 0.0, 0.0), image)
    assert described.structure == "tumour 1"
    assert described.organ == "liver"
    assert described.region == "right liver"  # 40 mm right of the IVC plane at L 10
    assert "Cantlie" in described.region_basis and "40 mm right" in described.region_basis
    assert described.depth_mm == pytest.approx(30.0, abs=SPACING)  # skin R 60 -> R 30
    assert described.lesion_depth_mm == pytest.approx(20.0, abs=SPACING)  # edge at R 40
    assert described.crossed == ("rib cage", "liver", "tumour 1")  # the body is not named
    assert described.skin[0] == pytest.approx(-60.0, abs=SPACING)
    text = " ".join(described.lines())
    assert "tumour 1, in the liver, right liver" in text
    assert f"{described.depth_mm:.0f} mm from the skin to the target" in text


def test_the_depth_is_measured_along_the_path_not_to_the_nearest_skin():
    labels, image = _case()
    # obliquely, 45 degrees between -L and +P: the skin is 60 mm from the axis, the nearest
    # skin 30 mm from the target (to the right), but along the path:
    target = np.array([-30.0, 0.0, 0.0])
    entry = target + np.array([-1.0, 1.0, 0.0]) * 20
    described = describe_target(labels, target, entry, image)
    # the ray (-30 - t/√2, t/√2) meets x²+y² = 60² where t² + 42.43 t - 2700 = 0: t = 34.9
    assert described.depth_mm == pytest.approx(34.9, abs=SPACING)


def test_without_labels_the_skin_is_the_first_voxel_above_minus_300_hu():
    _, image = _case()
    described = describe_target(None, (-30.0, 0.0, 0.0), (-70.0, 0.0, 0.0), image)
    assert described.structure == "" and described.region == ""
    assert described.depth_mm == pytest.approx(30.0, abs=SPACING)
    assert "no labelled structure" in described.lines()[0]


def test_no_side_is_claimed_near_the_ivc_plane():
    labels, image = _case()
    described = describe_target(labels, (0.0, 0.0, 20.0), (0.0, -70.0, 20.0), image)
    assert described.structure == "liver"
    assert described.region == ""
    assert "too close" in described.region_basis


def test_segment_labels_name_the_couinaud_segment():
    labels, image = _case(segments=True)
    described = describe_target(labels, (-30.0, 0.0, 0.0), (-70.0, 0.0, 0.0), image)
    assert described.region == "Couinaud segment VII"
    assert segment_name("S4a") == "IVA" and segment_name("couinaud segment 8") == "VIII"
    assert segment_name("spleen") == ""


def test_a_path_outside_the_body_says_so():
    labels, _ = _case()
    labels.volume.array[:] = 0
    described = describe_target(labels, (-30.0, 0.0, 0.0), (-70.0, 0.0, 0.0))
    assert described.depth_mm is None
    assert "does not meet the body" in " ".join(described.lines())


def test_coordinates_read_as_right_anterior_superior():
    assert lps_text((-94.4, -14.0, 38.0)) == "R 94.4 / A 14.0 / S 38.0"
    assert lps_text((12.0, 3.5, -7.25)) == "L 12.0 / P 3.5 / I 7.2"
