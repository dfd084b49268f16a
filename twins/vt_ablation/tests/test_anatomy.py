"""The VT twin's inputs on the demo heart (1 mm CT phantom with exact labels, ~1 s):
cropping, long axis, wall thickness, tissue codes from labels / CT thinning / LGE, fibres."""

from __future__ import annotations

import numpy as np
import pytest

from meditwin_desktop.core.case import Case
from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume
from meditwin_desktop.core.twin import TwinInputError
from meditwin_desktop.demo import heart_anatomy as heart

from ..anatomy import BORDER_ZONE, DENSE_SCAR, HEALTHY, dice, prepare, tissue_codes
from ..fibres import fibre_field


@pytest.fixture(scope="module")
def demo():
    ct, labels = heart.build(channel=True)
    case = Case(name="heart", image=ct, labels=labels)
    case.studies[0].modality = "CT"
    return case, prepare(case)


def _truth(case: Case, inputs: dict) -> np.ndarray:
    """Ground-truth codes on the crop, read straight from the label map by value."""
    ijk = np.linalg.inv(case.labels.volume.affine) @ inputs["affine"] @ [0, 0, 0, 1]
    i0, j0, k0 = np.rint(ijk[:3]).astype(int)
    nk, nj, ni = inputs["myocardium"].shape
    crop = case.labels.volume.array[k0 : k0 + nk, j0 : j0 + nj, i0 : i0 + ni]
    return np.select([crop == heart.L["left ventricle myocardium"], crop == heart.L["border zone"],
                      crop == heart.L["scar"]], [HEALTHY, BORDER_ZONE, DENSE_SCAR], 0)  # fmt: skip


def test_prepare_crops_the_ventricle_with_a_margin(demo):
    case, inputs = demo
    myo = inputs["myocardium"]
    wall = np.isin(case.labels.volume.array, [2, 4, 5])
    assert myo.sum() == wall.sum()  # the whole wall is inside the crop
    for axis in range(3):  # 5 mm (5 voxels) of margin on every side
        profile = myo.any(axis=tuple(a for a in range(3) if a != axis))
        assert not profile[:5].any() and not profile[-5:].any()
    assert inputs["intensity"].shape == myo.shape
    # blood pool HU 300 vs myocardium HU 100 (noise 10 HU, blur at the edges)
    assert np.median(inputs["intensity"][inputs["blood_pool"]]) == pytest.approx(300, abs=15)
    assert np.median(inputs["intensity"][_truth(case, inputs) == HEALTHY]) == pytest.approx(
        100, abs=15
    )


def test_long_axis_points_from_base_to_apex(demo):
    _, inputs = demo
    truth = np.asarray(heart.LONG_AXIS) / np.linalg.norm(heart.LONG_AXIS)
    angle = np.degrees(np.arccos(np.clip(inputs["long_axis"] @ truth, -1, 1)))
    assert angle < 3.0  # the sign (base -> apex) is the point of this check


def test_wall_thickness_and_transmural_coordinate(demo):
    case, inputs = demo
    truth = _truth(case, inputs)
    thickness, t = inputs["thickness_mm"], inputs["transmural"]
    # healthy wall: the endocardium offset by WALL_MM; dense scar thinned to SCAR_WALL_MM
    assert np.median(thickness[truth == HEALTHY]) == pytest.approx(heart.WALL_MM, abs=1.0)
    assert np.median(thickness[truth == DENSE_SCAR]) == pytest.approx(heart.SCAR_WALL_MM, abs=0.6)
    endo = inputs["myocardium"] & np.roll(inputs["blood_pool"], 1, axis=2)
    assert np.median(t[endo]) < 0.2 and t.max() <= 1.0 and t[inputs["myocardium"]].min() >= 0.0


def test_codes_from_labels_reproduce_the_ground_truth(demo):
    case, inputs = demo
    codes, provenance = tissue_codes(inputs, "labels")
    assert np.array_equal(codes, _truth(case, inputs))
    scar_ml = case.labels.volume_ml("scar")
    assert f"'scar' ({scar_ml:.1f} mL)" in provenance and "'border zone'" in provenance


def test_ct_wall_thinning_finds_the_dense_scar(demo):
    case, inputs = demo
    truth = _truth(case, inputs)
    codes, provenance = tissue_codes(inputs, "ct_thickness")
    # measured 0.91 on this phantom (dense scar 2.5 mm wall, border zone 4.5 mm, healthy 10)
    assert dice(codes == DENSE_SCAR, truth == DENSE_SCAR) > 0.8
    assert dice(codes >= BORDER_ZONE, truth >= BORDER_ZONE) > 0.8
    assert "wall < 3 mm" in provenance
    # healthy myocardium stays healthy (false scar only at the edges of the thinning)
    assert (codes[truth == HEALTHY] == HEALTHY).mean() > 0.97


def test_lge_thresholds_on_an_mr_like_image(demo):
    case, inputs = demo
    truth = _truth(case, inputs)
    rng = np.random.default_rng(1)
    lge = {HEALTHY: 100.0, BORDER_ZONE: 250.0, DENSE_SCAR: 400.0}  # scar 400 = the maximum
    intensity = np.select([truth == c for c in lge], list(lge.values()), 30.0)
    mr = dict(inputs, modality="MR", intensity=(intensity + rng.normal(0, 5, truth.shape)))
    codes, provenance = tissue_codes(mr, "lge")
    # thresholds 0.6 and 0.4 of ~415: 249 and 166 -> the 250 +- 5 border zone splits ~half
    assert dice(codes == DENSE_SCAR, truth == DENSE_SCAR) > 0.8
    assert dice(codes >= BORDER_ZONE, truth >= BORDER_ZONE) > 0.99
    assert "60%" in provenance
    with pytest.raises(TwinInputError, match="LGE"):
        tissue_codes(inputs, "lge")  # the demo is a CT
    assert inputs["modality"] == "CT"


def test_sources_that_cannot_work_say_why(demo):
    _, inputs = demo
    no_scar = dict(inputs, scar_label=None, border_zone_label=None)
    with pytest.raises(TwinInputError, match=r"No scar label.*CT wall thinning"):
        tissue_codes(no_scar, "labels")
    with pytest.raises(TwinInputError, match="Unknown scar source"):
        tissue_codes(inputs, "voltage map")


def test_helix_angle_goes_from_plus_to_minus_60_across_the_wall(demo):
    case, inputs = demo
    fibres = fibre_field(inputs, 60.0, -60.0)
    myo = inputs["myocardium"]
    assert np.allclose(np.linalg.norm(fibres[myo], axis=1), 1.0, atol=1e-5)
    assert not fibres[~myo].any()
    # an independent frame from the phantom's own axis: radial away from the long axis
    kji = np.argwhere(myo)
    affine = inputs["affine"]
    points = kji[:, ::-1] @ affine[:3, :3].T + affine[:3, 3]
    axis = np.asarray(heart.LONG_AXIS) / np.linalg.norm(heart.LONG_AXIS)
    offset = points - np.asarray(heart.LV_CENTRE)
    u = offset @ axis
    radial = offset - np.outer(u, axis)
    radial /= np.linalg.norm(radial, axis=1, keepdims=True)
    circ = np.cross(radial, axis)  # counter-clockwise seen from the base
    longitudinal = np.cross(radial, circ)  # apex -> base in the tangent plane
    f = fibres[tuple(kji.T)]
    angle = np.degrees(np.arctan2(np.einsum("ij,ij->i", f, longitudinal),
                                  np.einsum("ij,ij->i", f, circ)))  # fmt: skip
    angle = (angle + 90.0) % 180.0 - 90.0  # fibres are axes
    t = inputs["transmural"][tuple(kji.T)]
    # healthy wall between the base and the infarct band (its thinned wall bends the
    # transmural coordinate nearby): u from -10 to +2 mm, the band starts at +8 mm - 3 mm rim
    band_free = (u > -10.0) & (u < 2.0)
    mid_ventricle = band_free & (_truth(case, inputs)[tuple(kji.T)] == HEALTHY)
    expected = 60.0 - 120.0 * t
    error = np.abs(angle - expected)[mid_ventricle]
    assert np.median(error) < 1.0 and np.percentile(error, 90) < 2.0  # measured 0.17, 0.62
    for lo, hi, target in ((0.0, 0.1, 54.0), (0.45, 0.55, 0.0), (0.9, 1.0, -54.0)):
        layer = mid_ventricle & (t >= lo) & (t <= hi)
        assert layer.sum() > 500
        assert np.median(angle[layer]) == pytest.approx(target, abs=4.0)


def test_surface_vertices_sample_the_wall(demo):
    _, inputs = demo
    points, faces, index = (inputs[k] for k in ("surface_points", "surface_faces", "surface_index"))
    assert len(faces) > 1000 and faces.max() < len(points)
    assert inputs["myocardium"][tuple(index.T)].all()
    affine = inputs["affine"]
    centres = index[:, ::-1] @ affine[:3, :3].T + affine[:3, 3]
    assert np.percentile(np.linalg.norm(centres - points, axis=1), 99) < 2.0


def test_prepare_without_myocardium_says_what_to_draw():
    array = np.zeros((10, 10, 10), np.uint8)
    array[2:8, 2:8, 2:8] = 1
    labels = LabelMap(Volume(array, np.eye(4)), {1: Label(1, "liver", (200, 100, 100))})
    with pytest.raises(TwinInputError, match="name it 'left ventricle myocardium'"):
        prepare(Case(name="no heart", labels=labels))


def test_intensity_is_sampled_when_the_image_grid_differs_from_the_labels(demo):
    """Labels on the CT grid, the image a sub-block of it (another origin and shape): the
    crop's intensities are the CT values at the same LPS positions."""
    case, inputs = demo
    ct = case.image
    sub = ct.array[5:-5, 3:-3, 7:-7]
    affine = ct.affine.copy()
    affine[:3, 3] = ct.index_to_lps(np.array([7.0, 3.0, 5.0]))
    other = Case(name="other grid", image=Volume(sub, affine), labels=case.labels)
    moved = prepare(other)
    myo = inputs["myocardium"]
    assert np.array_equal(moved["intensity"][myo], inputs["intensity"][myo])
