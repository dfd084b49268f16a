"""The demo hearts (post-infarction VT and its no-channel control): label sizes, the
isthmus topology, CT values, and the DICOM + NIfTI round trip of the demo library."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from meditwin_desktop.demo import heart_anatomy as heart
from meditwin_desktop.demo.case import DEMO_CASES, demo_case

WALL = ("left ventricle myocardium", "scar", "border zone")


@pytest.fixture(scope="module")
def hearts():
    return {channel: heart.build(channel=channel) for channel in (True, False)}


def _masks(labels) -> dict[str, np.ndarray]:
    return {name: labels.mask(name) for _, (name, _, _) in heart.LABELS.items()}


def _local(labels) -> tuple[np.ndarray, np.ndarray]:
    """Angle (deg) around the long axis from the scar centre, and height u (mm, base -> apex)
    of every voxel, in the phantom's own frame."""
    k, j, i = np.indices(labels.volume.shape)
    lps = np.stack([i, j, k], axis=-1) @ labels.volume.affine[:3, :3].T
    lps = lps + labels.volume.affine[:3, 3] - np.asarray(heart.LV_CENTRE)
    a, b, u = (lps @ heart.lv_frame()[:, n] for n in range(3))
    return np.degrees(np.arctan2(b, a)), u


def test_labels_have_the_planned_sizes(hearts):
    for ct, labels in hearts.values():
        masks = _masks(labels)
        wall = masks["left ventricle myocardium"] | masks["scar"] | masks["border zone"]
        assert 90_000 <= wall.sum() <= 140_000  # 1 mm voxels: 90-140 mL of wall (96 with
        # the thinned infarct band)
        assert 80_000 <= masks["left ventricle blood pool"].sum() <= 140_000
        assert 2_000 <= masks["scar"].sum() <= 6_000  # thin (2.5 mm) transmural scar
        assert 1_500 <= masks["border zone"].sum() <= 5_000
        assert masks["body"].sum() > 0.5 * masks["body"].size
        # the dense scar and its channel: a mid-ventricular band ~16 mm tall (22 mm with its
        # rims) and 300 deg around: going round it is no shortcut past the channel
        angle, u = _local(labels)
        patch = masks["scar"] | (masks["border zone"] & (np.abs(angle) < 20))
        assert np.ptp(u[patch]) >= 20.0
        assert np.ptp(angle[patch]) >= 280.0
        assert labels.volume.array.dtype == np.uint8 and ct.array.shape == labels.volume.shape


def test_the_channel_connects_the_two_sides_only_in_post_mi_vt(hearts):
    """Inside the scar's angular sector (lateral rims excluded), the conducting tissue above
    and below the scar joins only through the border-zone channel."""
    for channel, (_, labels) in hearts.items():
        masks = _masks(labels)
        angle, u = _local(labels)
        sector = np.abs(angle) < heart.SCAR_HALF_ANGLE_DEG - 10.0
        conducting = (masks["left ventricle myocardium"] | masks["border zone"]) & sector
        base_side = conducting & (u < heart.SCAR_U[0] - heart.BZ_RIM_MM - 2.0)
        apex_side = conducting & (u > heart.SCAR_U[1] + heart.BZ_RIM_MM + 2.0)
        assert base_side.sum() > 1000 and apex_side.sum() > 100
        # face neighbours (the weakest link) for the channel, all 26 for the control
        structure = ndimage.generate_binary_structure(3, 1 if channel else 3)
        components, _ = ndimage.label(conducting, structure)
        base_ids = set(np.unique(components[base_side])) - {0}
        apex_ids = set(np.unique(components[apex_side])) - {0}
        assert bool(base_ids & apex_ids) == channel
        if channel:  # the channel itself is border zone, scar on both of its sides
            lane = masks["border zone"] & (np.abs(angle) < 5.0) & (u > 15.0) & (u < 35.0)
            assert lane.sum() > 150
            beside = masks["scar"] & (np.abs(np.abs(angle) - 15.0) < 5.0) & (u > 15) & (u < 35)
            assert beside.sum() > 150


def test_ct_values_and_wall_thinning(hearts):
    ct, labels = hearts[True]
    masks = _masks(labels)
    core = {name: ndimage.binary_erosion(m, iterations=1) for name, m in masks.items()}
    assert np.median(ct.array[core["left ventricle blood pool"]]) == pytest.approx(300, abs=10)
    assert np.median(ct.array[core["left ventricle myocardium"]]) == pytest.approx(100, abs=10)
    assert np.median(ct.array[masks["scar"]]) < 90  # HU 60 in a 2-3 voxel thin wall, blurred
    assert ct.meta["modality"] == "CT"


def test_generation_is_deterministic(hearts):
    ct, labels = hearts[True]
    ct2, labels2 = heart.build(channel=True)
    assert np.array_equal(ct.array, ct2.array)
    assert np.array_equal(labels.volume.array, labels2.volume.array)
    assert not np.array_equal(labels.volume.array, hearts[False][1].volume.array)


@pytest.mark.parametrize("name, channel", [("post-mi-vt", True), ("post-mi-no-channel", False)])
def test_demo_case_reads_back_from_dicom(hearts, name, channel):
    ct, labels = hearts[channel]
    case = demo_case(name)
    assert case.patient_id == DEMO_CASES[name]["patient_id"]
    assert case.studies[0].modality == "CT"
    assert "ablation" in case.clinical["board_question"]
    assert case.image.shape == ct.shape
    assert np.allclose(case.image.affine, ct.affine, atol=1e-4)
    assert np.abs(case.image.array.astype(int) - ct.array).max() <= 1
    assert np.array_equal(case.labels.volume.array, labels.volume.array)
    assert np.allclose(case.labels.volume.affine, ct.affine, atol=1e-4)
    assert {lab.name for lab in case.labels.labels.values()} >= set(WALL)
